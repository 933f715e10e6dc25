import {type SourceHandle} from '../core/bus.js';
import {type Json, type ToggleRequest, listRequest, toggleRequest} from './logstream-messages.js';
import {type Pair, type PairState, type Toggleable} from './source.js';

// The (server, log type) pairs of a logstream connection and the state machine
// behind the toggles: each pair is available, pending-enable, enabled,
// pending-disable or failed, from what logmon asked and what the servers replied.
// What the user switched on or off outlives the connection, so a reconnect
// enables again exactly what was on, servers that join later included.

type PairEntry = Pair & {display: string};

/** A real environment has tens of servers with up to 8 types each; more is a misbehaving server. */
const maxServers = 1000;
const maxPairs = 8000;

export type PairLink = {
	/** Put a message on the current connection (dropped when there is none). */
	send(msg: Json): void;
	/** True once stream-environment went out on the current connection: requests may follow. */
	streaming(): boolean;
	/** The bus handle, once the source has started. */
	handle(): SourceHandle | undefined;
};

function pairKey(server: string, type: string): string {
	return server + '\u0000' + type;
}

export class PairTable {
	readonly toggles: Toggleable;
	private readonly servers = new Set<string>();
	private readonly pairMap = new Map<string, PairEntry>();
	/** What the user wants on or off, kept across connections; a pair not in here follows the selection. */
	private readonly desired = new Map<string, boolean>();
	/** Pairs of earlier connections, so whole-server and whole-type toggles work while reconnecting. */
	private readonly seen = new Set<string>();
	private readonly listeners = new Set<() => void>();
	private notifyQueued = false;

	/** `selection`: the types and servers (empty: all) enabled unless the user says otherwise. */
	constructor(private readonly selection: {types: string[]; servers: string[]}, private readonly link: PairLink) {
		this.toggles = {
			pairs: () => this.pairs(),
			setPair: (server, type, on) => {
				this.setPair(server, type, on);
			},
			setServer: (server, on) => {
				for (const [s, type] of this.knownPairs()) {
					if (s === server) {
						this.setPair(s, type, on);
					}
				}
			},
			setType: (type, on) => {
				for (const [server, t] of this.knownPairs()) {
					if (t === type) {
						this.setPair(server, t, on);
					}
				}
			},
			onPairsChange: listener => {
				this.listeners.add(listener);
				return () => this.listeners.delete(listener);
			},
			listAvailable: server => {
				this.sendIfStreaming(listRequest('list-available', server));
			},
			listEnabled: server => {
				this.sendIfStreaming(listRequest('list-enabled', server));
			},
		};
	}

	// --- what the servers say --------------------------------------------

	/** A backend server's `connected`; false when it was one server too many (counted as a parse error). */
	serverConnected(server: string): boolean {
		if (!this.servers.has(server) && this.servers.size >= maxServers) {
			this.link.handle()?.parseError(`more than ${maxServers} servers announced; "connected" skipped`);
			return false;
		}

		this.servers.add(server);
		this.link.handle()?.detail('servers', [...this.servers]);
		return true;
	}

	/** An `available`: a new pair is enabled at once if it is wanted. */
	available(server: string, type: string, display: string | undefined): void {
		const key = pairKey(server, type);
		const known = this.pairMap.get(key);
		if (!known && (this.pairMap.size >= maxPairs || (!this.servers.has(server) && this.servers.size >= maxServers))) {
			this.link.handle()?.parseError(`more than ${maxPairs} (server, type) pairs or ${maxServers} servers announced; "available" skipped`);
			return;
		}

		if (!this.servers.has(server)) {
			this.servers.add(server);
			this.link.handle()?.detail('servers', [...this.servers]);
		}

		if (known) {
			// A repeat, e.g. the reply to list-available: nothing to enable again.
			if (display !== undefined) {
				known.display = display;
			}

			return;
		}

		const pair: PairEntry = {server, type, state: 'available', display: display ?? type};
		this.pairMap.set(key, pair);
		if (this.desired.get(key) ?? this.selected(server, type)) {
			this.setState(pair, 'pending-enable');
			this.link.send(toggleRequest(true, server, type));
		}

		this.notify();
	}

	/** A `success` for an enable or disable. */
	succeeded({cmd, server, type}: ToggleRequest): void {
		const key = pairKey(server, type);
		let pair = this.pairMap.get(key);
		if (cmd === 'enable') {
			if (!pair) {
				pair = {server, type, state: 'enabled', display: type};
				this.pairMap.set(key, pair);
			} else if (pair.state !== 'pending-disable') {
				this.setState(pair, 'enabled');
			}
		} else if (pair && pair.state !== 'pending-enable') {
			this.setState(pair, 'available');
		}

		this.notify();
	}

	/** An `error` for an enable or disable: a failed enable leaves the pair off, a failed disable leaves it on. */
	requestFailed(cmd: 'enable' | 'disable', server: string, type: string, description: string): void {
		const pair = this.pairMap.get(pairKey(server, type));
		if (pair) {
			this.setState(pair, cmd === 'enable' ? 'failed' : 'enabled', description);
			this.notify();
		}
	}

	/** An `enabled` (the reply to list-enabled): the server's word on which of its types are on. */
	enabledList(server: string, types: string[]): void {
		const on = new Set(types);
		for (const pair of this.pairMap.values()) {
			if (pair.server !== server || pair.state === 'pending-enable' || pair.state === 'pending-disable') {
				continue;
			}

			if (on.has(pair.type)) {
				this.setState(pair, 'enabled');
			} else if (pair.state === 'enabled') {
				this.setState(pair, 'available');
			}
		}

		for (const type of on) {
			const key = pairKey(server, type);
			if (!this.pairMap.has(key)) {
				this.pairMap.set(key, {server, type, state: 'enabled', display: type});
			}
		}

		this.notify();
	}

	/** The connection is gone: forget its servers and pairs, remembering what was on in `desired`. */
	connectionEnded(): void {
		if (this.pairMap.size > 0) {
			// Only what differs from the selection needs remembering, which keeps this map small.
			for (const [key, p] of this.pairMap) {
				this.seen.add(key);
				const on = p.state === 'enabled' || p.state === 'pending-enable';
				if (on === this.selected(p.server, p.type)) {
					this.desired.delete(key);
				} else {
					this.desired.set(key, on);
				}
			}

			for (const map of [this.desired, this.seen]) {
				for (const key of map.keys()) {
					if (map.size <= maxPairs) {
						break;
					}

					map.delete(key);
				}
			}

			this.pairMap.clear();
			this.notify();
		}

		this.servers.clear();
		this.link.handle()?.detail('servers', []);
	}

	// --- what the user asks ----------------------------------------------

	private selected(server: string, type: string): boolean {
		const {types, servers} = this.selection;
		return types.includes(type) && (servers.length === 0 || servers.includes(server));
	}

	private setState(pair: PairEntry, state: PairState, error?: string): void {
		pair.state = state;
		pair.error = error;
	}

	private knownPairs(): Array<[string, string]> {
		const keys = new Set([...this.pairMap.keys(), ...this.seen, ...this.desired.keys()]);
		return [...keys].map(k => k.split('\u0000') as [string, string]);
	}

	private pairs(): Pair[] {
		return [...this.pairMap.values()]
			.map(({server, type, state, error}) => ({server, type, state, ...(error === undefined ? {} : {error})}))
			.sort((a, b) => a.server.localeCompare(b.server) || a.type.localeCompare(b.type));
	}

	private setPair(server: string, type: string, on: boolean): void {
		const key = pairKey(server, type);
		this.desired.set(key, on);
		if (!this.link.streaming()) {
			// Applied when the server next lists the pair as available.
			return;
		}

		let pair = this.pairMap.get(key);
		if (on) {
			if (pair?.state === 'enabled' || pair?.state === 'pending-enable') {
				return;
			}

			if (!pair) {
				// Not listed (yet): ask anyway and let the server say whether it exists.
				pair = {server, type, state: 'available', display: type};
				this.pairMap.set(key, pair);
			}

			this.setState(pair, 'pending-enable');
			this.link.send(toggleRequest(true, server, type));
		} else {
			if (!pair || pair.state === 'available' || pair.state === 'pending-disable') {
				return;
			}

			if (pair.state === 'failed') {
				// Never came on upstream: nothing to disable.
				this.setState(pair, 'available');
			} else {
				this.setState(pair, 'pending-disable');
				this.link.send(toggleRequest(false, server, type));
			}
		}

		this.notify();
	}

	private sendIfStreaming(msg: Json): void {
		if (this.link.streaming()) {
			this.link.send(msg);
		}
	}

	/** Listeners hear once per burst (a server announcing its types), not once per message. */
	private notify(): void {
		if (this.notifyQueued) {
			return;
		}

		this.notifyQueued = true;
		queueMicrotask(() => {
			this.notifyQueued = false;
			const handle = this.link.handle();
			handle?.detail('pairs', this.pairs());
			for (const l of this.listeners) {
				try {
					l();
				} catch (error) {
					handle?.log('error', `a pairs listener threw: ${(error as Error).message}`);
				}
			}
		});
	}
}
