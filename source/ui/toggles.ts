import {type FilterSpec} from '../core/filter.js';
import {LEVELS} from '../core/event.js';
import {type ServiceStats} from '../core/stats.js';
import {type Pair, type Toggleable} from '../sources/source.js';
import {safe} from './text.js';

// The toggles panel: servers and log types (upstream for logstream, local
// filter otherwise), services, levels and sources (local filter).

export const sections = ['servers', 'types', 'services', 'levels', 'sources'] as const;
export type Section = (typeof sections)[number];

export type RowState = 'on' | 'off' | 'partial' | 'pending' | 'failed';

export type ToggleRow = {
	name: string;
	state: RowState;
	/** "2/3", or the server's error text. */
	detail: string;
	/** Switched by telling the server (logstream), not by the local filter. */
	upstream: boolean;
	/** What switching the row asks for: rows that are (or are becoming) fully on go off, anything else goes on. */
	next: boolean;
	/** Upstream rows: one state per pair along the other axis (types of a server, servers of a type), sorted by name. */
	cells?: RowState[] | undefined;
};

function cellState(p: Pair): RowState {
	switch (p.state) {
		case 'enabled': {
			return 'on';
		}

		case 'pending-enable':
		case 'pending-disable': {
			return 'pending';
		}

		case 'failed': {
			return 'failed';
		}

		case 'available': {
			return 'off';
		}
	}
}

export type ToggleSource = {id: string; toggles?: Toggleable | undefined};

type HideKey = 'hideHosts' | 'hideTypes' | 'hideServices' | 'hideLevels' | 'hideSources';
type OnlyKey = 'onlyHosts' | 'onlyTypes' | 'onlyServices' | 'onlySources';

const hideKeyOf: Record<Section, HideKey> = {
	servers: 'hideHosts',
	types: 'hideTypes',
	services: 'hideServices',
	levels: 'hideLevels',
	sources: 'hideSources',
};

// Switching a whole section off keeps a list of what is on instead of what is off: the statistics
// keep only the latest 500 names, so a hidden list would leave the others on.
const onlyKeyOf: Record<Section, OnlyKey | undefined> = {
	servers: 'onlyHosts',
	types: 'onlyTypes',
	services: 'onlyServices',
	levels: undefined, // seven levels: the hidden list holds them all
	sources: 'onlySources',
};

function onlyOf(section: Section, spec: FilterSpec): string[] | undefined {
	const key = onlyKeyOf[section];
	return key && spec[key];
}

function upstreamRows(pairs: readonly Pair[], by: 'server' | 'type'): Map<string, Pair[]> {
	const out = new Map<string, Pair[]>();
	for (const p of pairs) {
		const name = p[by];
		const list = out.get(name);
		if (list) {
			list.push(p);
		} else {
			out.set(name, [p]);
		}
	}

	return out;
}

function pairRow(name: string, pairs: readonly Pair[], other: 'server' | 'type'): ToggleRow {
	let enabled = 0;
	let pending = 0;
	let failed = 0;
	let error = '';
	let wanted = 0; // enabled or being enabled
	for (const p of pairs) {
		if (p.state === 'enabled' || p.state === 'pending-enable') {
			wanted++;
		}

		if (p.state === 'enabled') {
			enabled++;
		} else if (p.state === 'pending-enable' || p.state === 'pending-disable') {
			pending++;
		} else if (p.state === 'failed') {
			failed++;
			error ||= p.error ?? 'failed';
		}
	}

	const n = pairs.length;
	const count = `${enabled}/${n}`;
	let state: RowState;
	if (pending > 0) {
		state = 'pending';
	} else if (failed > 0 && enabled === 0) {
		state = 'failed';
	} else if (enabled === n) {
		state = 'on';
	} else if (enabled === 0) {
		state = 'off';
	} else {
		state = 'partial';
	}

	const cells = [...pairs].sort((a, b) => (a[other] < b[other] ? -1 : (a[other] > b[other] ? 1 : 0))).map(p => cellState(p));
	return {name, state, detail: state === 'failed' ? safe(error) : count, upstream: true, next: wanted < n, cells};
}

export class Toggles {
	constructor(private readonly sources: readonly ToggleSource[], private readonly stats: ServiceStats) {}

	private toggleables(): Toggleable[] {
		return this.sources.flatMap(s => (s.toggles ? [s.toggles] : []));
	}

	private pairs(): Pair[] {
		return this.toggleables().flatMap(t => t.pairs());
	}

	/** The rows of a section, given the local filter's lists (hidden, or only these). */
	rows(section: Section, spec: FilterSpec): ToggleRow[] {
		const hidden = new Set<string>(spec[hideKeyOf[section]]);
		const onlyList = onlyOf(section, spec);
		const only = onlyList && new Set(onlyList);
		const local = (names: Iterable<string>, skip?: Set<string>): ToggleRow[] => {
			const all = new Set<string>(names);
			for (const named of only ?? hidden) {
				all.add(named);
			}

			return [...all].filter(n => !skip?.has(n)).sort().map(name => {
				const on = only ? only.has(name) : !hidden.has(name);
				return {name, state: on ? 'on' as const : 'off' as const, detail: '', upstream: false, next: !on};
			});
		};

		switch (section) {
			case 'servers':
			case 'types': {
				const by = section === 'servers' ? 'server' : 'type';
				const up = upstreamRows(this.pairs(), by);
				const upRows = [...up.keys()].sort().map(name => pairRow(name, up.get(name)!, by === 'server' ? 'type' : 'server'));
				const seen = section === 'servers' ? this.stats.seenHosts() : this.stats.seenTypes();
				return [...upRows, ...local(seen, new Set(up.keys()))];
			}

			case 'services': {
				return local(this.stats.seenServices());
			}

			case 'levels': {
				return LEVELS.map(level => ({name: level, state: hidden.has(level) ? 'off' as const : 'on' as const, detail: '', upstream: false, next: hidden.has(level)}));
			}

			case 'sources': {
				return local(this.sources.map(s => s.id));
			}
		}
	}

	/**
	 * Switch rows on or off. Upstream rows go to the server; the returned spec
	 * carries the local changes (the same object when nothing local changed).
	 */
	set(section: Section, rows: readonly ToggleRow[], on: boolean, spec: FilterSpec): FilterSpec {
		let next = spec;
		const onlyKey = onlyKeyOf[section];
		for (const row of rows) {
			const only = onlyKey && next[onlyKey];
			if (only && only.includes(row.name) !== on) {
				// The section is off but for a list: a row switched joins it or leaves it (an
				// upstream row too, so that what the server sends again is shown).
				next = {...next, [onlyKey]: on ? [...only, row.name] : only.filter(n => n !== row.name)};
			}

			if (row.upstream) {
				this.tellServers(section, row.name, on);
				continue;
			}

			if (only) {
				continue;
			}

			const key = hideKeyOf[section];
			const name = row.name;
			const list = next[key] as string[];
			const isHidden = list.includes(name);
			if (on === !isHidden) {
				continue;
			}

			next = {...next, [key]: on ? list.filter(n => n !== name) : [...list, name]};
		}

		return next;
	}

	/** An upstream row: each source that has it is asked to switch it. */
	private tellServers(section: Section, name: string, on: boolean): void {
		for (const t of this.toggleables()) {
			if (!t.pairs().some(p => (section === 'servers' ? p.server : p.type) === name)) {
				continue;
			}

			if (section === 'servers') {
				t.setServer(name, on);
			} else {
				t.setType(name, on);
			}
		}
	}

	/**
	 * Switch a whole section (`a`). Upstream rows go to the server one by one. Locally, "all on" is
	 * an empty hidden list and "all off" an empty list of what is on, so names the rows do not list
	 * (past the statistics' 500) are switched too.
	 */
	setAll(section: Section, rows: readonly ToggleRow[], on: boolean, spec: FilterSpec): FilterSpec {
		const onlyKey = onlyKeyOf[section];
		if (!onlyKey) {
			return this.set(section, rows, on, spec);
		}

		for (const row of rows) {
			if (row.upstream) {
				this.tellServers(section, row.name, on);
			}
		}

		const hideKey = hideKeyOf[section];
		if (on ? spec[onlyKey] === undefined && spec[hideKey].length === 0 : spec[onlyKey]?.length === 0) {
			return spec;
		}

		return {...spec, [hideKey]: [], [onlyKey]: on ? undefined : []};
	}
}
