import type http from 'node:http';
import {type DockerConfig, dockerSocketUrl, parseDockerSince} from '../config/docker.js';
import {Backoff} from '../core/backoff.js';
import {type SourceHandle} from '../core/bus.js';
import {type DockerLine} from '../core/docker-frames.js';
import {sinceFromMs, sinceParameter} from '../core/docker-resume.js';
import {skipReason} from '../core/docker-select.js';
import {type EventInit} from '../core/event.js';
import {LineSplitter} from '../core/lines.js';
import {sanitize} from '../core/sanitize.js';
import {type ContainerMeta, containerMeta, dockerEvent} from './docker-event.js';
import {Engine, EngineError, connectionReason, engineAddress} from './docker-engine.js';
import {ContainerFollower, type FirstRead, type FollowerHost} from './docker-follow.js';
import {type Inspect, isObject, readInspect, shortId, toContainer} from './docker-inspect.js';
import {type LogSource, type SourceDeps} from './source.js';

// Docker containers, as logspout reads them: every running container that the selection lets
// through (config/docker.ts), and those that start later (the engine's /events), each followed
// by its own log stream (docker-follow.ts). A container that stops leaves with a line in health.
//
// The /events stream is the connection to the engine: when it breaks (a daemon restart, a socket
// error) every stream is closed, and after a backoff the list is read again and each container
// resumes after the last lines it showed; a gap marker covers the time the engine was away.

type EngineEvent = {Type?: string; Action?: string; status?: string; id?: string; Actor?: {ID?: string; Attributes?: Record<string, string>}; time?: number};

/** Lines in health about containers that left, newest last. */
const leftShown = 10;
/** Containers that left whose last line is remembered, so a restart goes on after it. */
const retiredKept = 1000;
/** Events published at once at most. */
const maxBatch = 4096;
/** A stream that ended while its container still runs is opened again after this long, ms. */
const reopenMs = 500;
/** Logs refused with 404 or 409 this many times in a row under a container said to be there: it leaves. */
const maxRefusals = 3;
/** An inspect the engine failed (not a 404) is made again after this long, ms. */
const inspectRetryMs = 2000;

export class DockerSource implements LogSource {
	readonly kind = 'docker' as const;
	private handle: SourceHandle | undefined;
	private engine: Engine | undefined;
	private readonly backoff = new Backoff({initialMs: 500, maxMs: 15_000, stableMs: 5000});
	private readonly followers = new Map<string, ContainerFollower>();
	private readonly metas = new Map<ContainerFollower, ContainerMeta>();
	/** Containers being looked at (inspect in flight), so a start event and the list do not add one twice. */
	private readonly adding = new Set<string>();
	/** Containers skipped, by id, with why: said once each. */
	private readonly skipped = new Map<string, string>();
	private readonly left: string[] = [];
	/** The last line's time (a stamp key) of containers that left, oldest first. */
	private readonly retired = new Map<string, string>();
	/** Since when this run has watched the engine's events (ms): a container starting later is read from there. */
	private watchingSince = 0;
	private events: http.ClientRequest | undefined;
	private retryTimer: NodeJS.Timeout | undefined;
	private stopped = false;
	private paused = false;
	/** Bumped whenever the connection to the engine is lost: late answers of the old one are ignored. */
	private session = 0;
	private connectedAt = 0;
	/** When the engine was lost; set until it is back, for the gap marker and new containers' `since`. */
	private downSince: number | undefined;
	private firstConnection = true;
	private hostName = '';
	private repeats = 0;
	private pending: EventInit[] = [];
	private flushing: NodeJS.Immediate | undefined;

	constructor(readonly id: string, readonly config: DockerConfig, readonly deps: SourceDeps) {}

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		const {url, from} = dockerSocketUrl(this.config);
		try {
			this.engine = new Engine(engineAddress(url), text => {
				this.debug(text);
			});
		} catch (error) {
			handle.setState('failed', `${from === 'DOCKER_HOST' ? 'DOCKER_HOST' : 'socket'}: ${(error as Error).message}`);
			return;
		}

		handle.detail('socket', this.engine.address.label);
		this.connect();
	}

	pause = (): void => {
		this.paused = true;
		for (const f of this.followers.values()) {
			f.pause();
		}
	};

	resume = (): void => {
		this.paused = false;
		for (const f of this.followers.values()) {
			f.resume();
		}
	};

	async stop(): Promise<void> {
		this.stopped = true;
		this.session++;
		clearTimeout(this.retryTimer);
		this.events?.destroy();
		this.events = undefined;
		for (const f of this.followers.values()) {
			f.close();
		}

		this.flush();
		const repeats = this.repeats + [...this.followers.values()].reduce((n, f) => n + f.repeats, 0);
		if (repeats > 0) {
			this.handle?.log('info', `${repeats} lines Docker sent again after a reconnect skipped`);
		}
	}

	private connect(): void {
		if (this.stopped) {
			return;
		}

		const session = ++this.session;
		const handle = this.handle!;
		const engine = this.engine!;
		handle.setState('connecting');
		void (async () => {
			try {
				const info = await engine.json<{Name?: string}>('/info');
				const version = await engine.json<{ApiVersion?: string; Version?: string}>('/version');
				if (session !== this.session) {
					return;
				}

				this.hostName = sanitize(String(info.Name ?? ''));
				handle.detail('host', this.hostName);
				handle.detail('engine', `${sanitize(String(version.Version ?? '?'))} (API ${sanitize(String(version.ApiVersion ?? '?'))})`);
			} catch (error) {
				this.lost(session, this.reason(error));
				return;
			}

			const filters = encodeURIComponent(JSON.stringify({type: ['container'], event: ['start', 'die', 'destroy']}));
			this.events = engine.stream(`/events?filters=${filters}`, response => {
				this.onEvents(session, response);
			}, error => {
				this.lost(session, this.reason(error));
			});
		})();
	}

	private onEvents(session: number, response: http.IncomingMessage): void {
		const handle = this.handle!;
		this.connectedAt = Date.now();
		handle.setState('live');
		this.watchingSince = this.downSince ?? this.connectedAt;
		const splitter = new LineSplitter(64 * 1024);
		response.on('data', (chunk: Buffer) => {
			for (const {text, truncated} of splitter.push(chunk)) {
				if (session !== this.session) {
					return;
				}

				let event: EngineEvent;
				try {
					event = JSON.parse(text) as EngineEvent;
				} catch {
					handle.parseError(`an engine event that is not JSON${truncated > 0 ? ' (too long)' : ''}`);
					continue;
				}

				this.onEngineEvent(session, event);
			}
		});
		response.on('end', () => {
			this.lost(session, 'the engine ended its event stream');
		});
		response.on('error', error => {
			this.lost(session, this.reason(error));
		});
		response.on('close', () => {
			this.lost(session, 'the connection to the engine closed');
		});
		// Subscribed first, listed second: a container starting in between is seen by one or both.
		this.guard(session, this.attachAll(session));
	}

	/** A step that should not throw, run without waiting: if it does, the engine is treated as lost, not the process. */
	private guard(session: number, step: Promise<void>): void {
		step.catch((error: unknown) => {
			this.lost(session, `an answer of the engine could not be read (${error instanceof Error ? error.message : String(error)})`);
		});
	}

	private onEngineEvent(session: number, event: EngineEvent): void {
		if (event.Type !== undefined && event.Type !== 'container') {
			return;
		}

		const id = event.Actor?.ID ?? event.id;
		const action = event.Action ?? event.status;
		if (!id || !action) {
			return;
		}

		if (action === 'start' && typeof id === 'string') {
			this.guard(session, this.add(session, id, 'after-previous-run'));
		} else if (action === 'destroy') {
			this.skipped.delete(id);
		}
	}

	/** After (re)connecting: resume every container followed before, and follow every running one. */
	private async attachAll(session: number): Promise<void> {
		const first = this.firstConnection;
		let listed: unknown;
		try {
			listed = await this.engine!.json<unknown>('/containers/json');
		} catch (error) {
			this.lost(session, this.reason(error));
			return;
		}

		if (session !== this.session) {
			return;
		}

		if (!Array.isArray(listed)) {
			this.handle!.parseError('a container list from the engine that is not a JSON array');
			this.lost(session, 'the engine\'s container list could not be read');
			return;
		}

		const ids = (listed as unknown[]).flatMap(c => (isObject(c) && typeof c['Id'] === 'string' ? [c['Id']] : []));
		if (ids.length < listed.length) {
			const n = listed.length - ids.length;
			this.handle!.parseError(`${n} ${n === 1 ? 'entry' : 'entries'} of the engine's container list without an id, skipped`);
		}

		this.firstConnection = false;
		const down = this.downSince;
		this.downSince = undefined;
		// Back after an outage, once the containers could be listed: one gap marker for all of it.
		if (down !== undefined) {
			this.handle!.reconnected();
			this.handle!.gap(down, this.connectedAt);
		}

		for (const f of this.followers.values()) {
			// Those that stopped meanwhile deliver what they printed before, then leave.
			if (!f.following) {
				this.guard(session, this.reopen(session, f));
			}
		}

		const firstRead = first ? this.firstRead() : {since: down === undefined ? undefined : sinceFromMs(down), tail: down === undefined ? '0' : 'all'};
		await Promise.all(ids.map(async id => this.add(session, id, firstRead)));
		if (session === this.session) {
			this.publishDetails();
		}
	}

	/** The first read of the containers running at start: --since and --tail. */
	private firstRead(): FirstRead {
		const since = this.config.since === undefined ? undefined : parseDockerSince(this.config.since);
		const tail = this.config.tail ?? (since === undefined ? 0 : undefined);
		return {since: since === undefined ? undefined : sinceFromMs(since), tail: tail === undefined ? 'all' : String(tail)};
	}

	/** Look at a container and follow it, unless it is followed already or the selection skips it. */
	private async add(session: number, id: string, read: FirstRead | 'after-previous-run'): Promise<void> {
		if (this.followers.has(id) || this.adding.has(id) || this.skipped.has(id)) {
			return;
		}

		this.adding.add(id);
		let inspected: Inspect | undefined;
		try {
			inspected = readInspect(await this.engine!.json<unknown>(`/containers/${encodeURIComponent(id)}/json`), id);
		} catch (error) {
			// An EngineError (a 404): it went away before it could be looked at.
			if (!(error instanceof EngineError)) {
				this.lost(session, this.reason(error));
			}

			return;
		} finally {
			this.adding.delete(id);
		}

		if (session !== this.session || this.stopped || this.followers.has(id)) {
			return;
		}

		if (!inspected) {
			this.handle!.parseError(`container ${shortId(id)}: an inspect answer from the engine that is not a JSON object; not followed`);
			return;
		}

		const container = toContainer(inspected);
		const skip = skipReason(container, this.config);
		if (skip) {
			this.skipped.set(id, skip);
			this.handle!.log('info', `container ${sanitize(container.name)} (${shortId(id)}) skipped: ${skip}`);
			this.handle!.detail('skipped', this.skipped.size);
			return;
		}

		const follower = new ContainerFollower(container, this.followerHost(), read === 'after-previous-run' ? this.afterPreviousRun(id) : read);
		this.followers.set(id, follower);
		this.metas.set(follower, containerMeta(container));
		if (this.paused) {
			follower.pause();
		}

		follower.follow();
		this.publishDetails();
	}

	/**
	 * Where a container that just started is read from: after the last line of its previous run
	 * when this run followed it, else from when this run began watching (a container that ran
	 * before logmon started shows only what it prints now).
	 */
	private afterPreviousRun(id: string): FirstRead {
		const last = this.retired.get(id);
		if (last !== undefined) {
			return {since: sinceParameter(last), tail: 'all', after: last};
		}

		return {since: sinceFromMs(this.watchingSince), tail: 'all'};
	}

	private followerHost(): FollowerHost {
		return {
			engine: this.engine!,
			maxLine: this.deps.maxLine,
			emit: (f, lines) => {
				this.emit(f, lines);
			},
			ended: (f, failure) => {
				this.streamEnded(f, failure);
			},
			addBytes: n => {
				this.handle!.addBytes(n);
			},
			badFrames: (f, n) => {
				for (let i = 0; i < n; i++) {
					this.handle!.parseError(`a frame of container ${f.container.name} with an unknown stream byte; skipped`);
				}
			},
		};
	}

	private streamEnded(f: ContainerFollower, failure: Error | undefined): void {
		if (this.stopped) {
			return;
		}

		// 404 (removed) and 409 (dead, or being removed: `--rm`) are for reopen to tell from the
		// state, a few times in a row; other refusals are for good (a logging driver that cannot be
		// read back, say): said once, not retried.
		const refused = failure instanceof EngineError;
		f.refusals = refused ? f.refusals + 1 : 0;
		if (refused && ((failure.status !== 404 && failure.status !== 409) || f.refusals > maxRefusals)) {
			this.leave(f, `its logs cannot be read: ${failure.message}`);
			return;
		}

		this.guard(this.session, this.reopen(this.session, f, failure !== undefined));
	}

	/**
	 * A stream ended or was closed: follow on while the container runs, else it has left, after one
	 * more read per exit. That read matters even when the stream ended by itself: the engine may end
	 * a follow when the container exits before its last lines were sent (seen here: 11,565 of 20,000
	 * lines printed in a burst). A stopped container's logs are read to their end and the stream
	 * closes; what was shown already is dropped as after a reconnect. An exit is told from the next
	 * by its time (a container restarted meanwhile is followed on by that same read). `broken`: the
	 * stream did not end by itself; a read after an exit that broke is made again, twice at most.
	 */
	private async reopen(session: number, f: ContainerFollower, broken = false): Promise<void> {
		let state: Inspect | undefined;
		try {
			state = readInspect(await this.engine!.json<unknown>(`/containers/${encodeURIComponent(f.container.id)}/json`), f.container.id);
		} catch (error) {
			if (error instanceof EngineError && error.status === 404) {
				this.leave(f, 'removed');
				return;
			}

			if (!(error instanceof EngineError)) {
				this.lost(session, this.reason(error));
				return;
			}
		}

		if (!state) {
			// The engine could not say (a 500, or an answer that is no object): asked again later, so
			// the container is not left hanging.
			setTimeout(() => {
				if (session === this.session && !this.stopped && this.followers.get(f.container.id) === f) {
					this.guard(session, this.reopen(session, f, broken));
				}
			}, inspectRetryMs).unref();
			return;
		}

		if (session !== this.session || this.stopped || f.following || this.followers.get(f.container.id) !== f) {
			return;
		}

		const running = state.State?.Running === true;
		f.container = {...f.container, running};
		if (running) {
			// A stream that ended under a running container is opened again, after a breath.
			this.followLater(session, f);
			return;
		}

		const exit = state.State?.FinishedAt ?? '';
		if (f.exitRead !== exit) {
			f.exitRead = exit;
			f.exitRetries = 0;
			f.follow();
			return;
		}

		if (broken && f.exitRetries < 2) {
			f.exitRetries++;
			this.followLater(session, f);
			return;
		}

		const code = state.State?.ExitCode;
		this.leave(f, `${state.State?.Status ?? 'stopped'}${code === undefined ? '' : ` (exit code ${code})`}`);
	}

	/** Open a follower's stream again after a breath, unless it was closed, replaced or reopened meanwhile. */
	private followLater(session: number, f: ContainerFollower): void {
		setTimeout(() => {
			if (session === this.session && !this.stopped && !f.following && this.followers.get(f.container.id) === f) {
				f.follow();
			}
		}, reopenMs).unref();
	}

	private leave(f: ContainerFollower, why: string): void {
		f.close();
		this.followers.delete(f.container.id);
		this.metas.delete(f);
		this.repeats += f.repeats;
		const last = f.lastKey();
		if (last !== undefined) {
			this.retired.delete(f.container.id);
			this.retired.set(f.container.id, last);
			if (this.retired.size > retiredKept) {
				this.retired.delete(this.retired.keys().next().value!);
			}
		}

		const line = `container ${sanitize(f.container.name)} (${shortId(f.container.id)}) left: ${why}`;
		this.left.push(`${new Date().toISOString()} ${line}`);
		if (this.left.length > leftShown) {
			this.left.shift();
		}

		this.handle!.log('info', line);
		this.publishDetails();
	}

	/** The engine is gone: close every stream (keeping what each has seen) and try again after a backoff. */
	private lost(session: number, reason: string): void {
		if (session !== this.session || this.stopped) {
			return;
		}

		this.session++;
		this.events?.destroy();
		this.events = undefined;
		for (const f of this.followers.values()) {
			f.close();
			f.exitRead = undefined; // a read after an exit, cut short: made again after the reconnect
		}

		this.adding.clear();

		if (this.connectedAt > 0) {
			this.downSince ??= Date.now();
			this.backoff.connectionEnded(Date.now() - this.connectedAt);
			this.connectedAt = 0;
		}

		const delay = this.backoff.next();
		this.handle!.setState('retrying', reason, delay);
		this.retryTimer = setTimeout(() => {
			this.connect();
		}, delay);
	}

	/**
	 * Lines are published once per turn of the event loop, not per read: the engine writes each
	 * frame on its own, so a read often holds one line, and a batch per line would cost stdout a
	 * write per line.
	 */
	private emit(f: ContainerFollower, lines: DockerLine[]): void {
		const meta = this.metas.get(f);
		const handle = this.handle;
		if (!meta || !handle) {
			return;
		}

		const context = {sourceId: this.id, host: this.hostName, receivedAt: Date.now(), parseError: (why: string) => handle.parseError(why)};
		for (const line of lines) {
			this.pending.push(dockerEvent(line, meta, context));
		}

		if (this.pending.length >= maxBatch) {
			this.flush();
		} else {
			this.flushing ??= setImmediate(() => {
				this.flush();
			});
		}
	}

	private flush(): void {
		clearImmediate(this.flushing);
		this.flushing = undefined;
		const events = this.pending;
		this.pending = [];
		if (events.length > 0) {
			this.handle?.publish(events);
		}
	}

	private publishDetails(): void {
		const handle = this.handle;
		if (!handle) {
			return;
		}

		handle.detail('containers', [...this.followers.values()].map(f => `${sanitize(f.container.name)} (${shortId(f.container.id)}${f.container.tty ? ', tty' : ''})`));
		handle.detail('left', [...this.left]);
	}

	private reason(error: unknown): string {
		return connectionReason(error, this.engine!.address);
	}

	private debug(text: string): void {
		if (this.deps.debug) {
			process.stderr.write(`logmon: debug: ${this.id}: ${text}\n`);
		}
	}
}
