import {LEVELS, type Level, type LogEvent, levelRank} from '../core/event.js';
import {type Dimensions, statusClass} from './grafana-model.js';

// The live counts behind the Grafana time series: every event of this run counted by event time
// into slots of 10 s (the last 6 hours) or 1 minute (older, up to 3 days back), per
// (service, host, source, type) × level, and per HTTP status class. Pure: the bus feeds it.
//
// Memory is bounded: at most 10,000 (service, host, source, type) combinations (more are counted
// under "(other)"), and slots older than 3 days are dropped; a slot that no longer changes is
// frozen into two typed arrays (12 bytes a count). Events whose time is outside the kept window
// (older than 3 days, or more than an hour ahead) are counted in `outOfWindow`, not in a slot.

export const fineMs = 10_000;
export const coarseMs = 60_000;
export const fineKeepMs = 6 * 3_600_000;
export const keepMs = 3 * 86_400_000;
const aheadMs = 3_600_000;
export const maxCombos = 10_000;

/** A count's key: combination × 64 + level rank × 8 + HTTP status class (0: none, 1…5: 1xx…5xx). */
export function countKey(combo: number, level: Level, statusClass: number): number {
	return (combo * 64) + (levelRank[level] * 8) + statusClass;
}

export type Combo = {service: string; host: string; source: string; type: string};

class Slot {
	private map: Map<number, number> | undefined = new Map();
	private keys: Int32Array | undefined;
	private values: Float64Array | undefined;

	add(key: number, n: number): void {
		if (!this.map) {
			this.thaw();
		}

		this.map!.set(key, (this.map!.get(key) ?? 0) + n);
	}

	/** The counts as two typed arrays: a slot that stopped changing costs 12 bytes a key. */
	freeze(): void {
		if (!this.map) {
			return;
		}

		const keys = new Int32Array(this.map.size);
		const values = new Float64Array(this.map.size);
		let i = 0;
		for (const [k, v] of this.map) {
			keys[i] = k;
			values[i++] = v;
		}

		this.keys = keys;
		this.values = values;
		this.map = undefined;
	}

	private thaw(): void {
		const map = new Map<number, number>();
		for (let i = 0; i < this.keys!.length; i++) {
			map.set(this.keys![i]!, this.values![i]!);
		}

		this.map = map;
		this.keys = undefined;
		this.values = undefined;
	}

	forEach(visit: (key: number, n: number) => void): void {
		if (this.map) {
			for (const [k, v] of this.map) {
				visit(k, v);
			}

			return;
		}

		for (let i = 0; i < this.keys!.length; i++) {
			visit(this.keys![i]!, this.values![i]!);
		}
	}

	mergeInto(other: Slot): void {
		this.forEach((k, v) => {
			other.add(k, v);
		});
	}
}

export type SlotVisitor = (key: number, n: number, slotStart: number, slotMs: number) => void;

export class LiveCounts {
	private readonly combos: Combo[] = [];
	private readonly comboIds = new Map<string, Map<string, Map<string, Map<string, number>>>>();
	private readonly fine = new Map<number, Slot>();
	private readonly coarse = new Map<number, Slot>();
	/** Events counted in a slot, and those outside the kept window. */
	counted = 0;
	outOfWindow = 0;
	/** Events whose combination came past the cap, counted under "(other)". */
	overflowed = 0;
	/** Times before this go to minute slots; before `keptFrom` nowhere. Both move on with `prune`. */
	private fineFrom: number;
	private keptFromMs: number;
	private lastPrune = 0;
	private last: {e: LogEvent | undefined; id: number} = {e: undefined, id: 0};

	/** `since`: when this run began counting (before its sources started). */
	constructor(readonly since: number) {
		this.fineFrom = floorTo(since - fineKeepMs, coarseMs);
		this.keptFromMs = floorTo(since - keepMs, coarseMs);
		this.lastPrune = since;
	}

	/** The oldest time whose slot is still kept: earlier minutes must come from the history. */
	get keptFrom(): number {
		return this.keptFromMs;
	}

	add(events: readonly LogEvent[], now: number): void {
		if (now - this.lastPrune >= fineMs) {
			this.prune(now);
		}

		// Runs of events with the same key in the same slot are added at once.
		let slot: Slot | undefined;
		let slotIndex = Number.NaN;
		let runKey = -1;
		let run = 0;
		for (const e of events) {
			if (e.marker) {
				continue;
			}

			const t = Number.isFinite(e.time) ? e.time : e.receivedAt;
			if (t < this.keptFromMs || t > now + aheadMs) {
				this.outOfWindow++;
				continue;
			}

			const key = countKey(this.comboId(e), e.level, statusClass(e));
			const fine = t >= this.fineFrom;
			// Fine slots are numbered from 0 up, minute slots below zero: one number says which.
			const i = fine ? Math.floor(t / fineMs) : -1 - Math.floor(t / coarseMs);
			if (i !== slotIndex || key !== runKey) {
				if (run > 0) {
					slot!.add(runKey, run);
				}

				if (i !== slotIndex) {
					slotIndex = i;
					slot = fine ? slotOf(this.fine, i) : slotOf(this.coarse, -1 - i);
				}

				runKey = key;
				run = 0;
			}

			run++;
			this.counted++;
		}

		if (run > 0) {
			slot!.add(runKey, run);
		}
	}

	/** Fine slots past 6 hours become minute slots; slots past 3 days go; settled slots are frozen. */
	prune(now: number): void {
		this.lastPrune = now;
		this.fineFrom = Math.max(this.fineFrom, floorTo(now - fineKeepMs, coarseMs));
		this.keptFromMs = Math.max(this.keptFromMs, floorTo(now - keepMs, coarseMs));
		const settled = Math.floor((now - 2 * fineMs) / fineMs);
		const merged = new Set<Slot>();
		for (const [i, slot] of this.fine) {
			if (i * fineMs < this.fineFrom) {
				this.fine.delete(i);
				const into = slotOf(this.coarse, Math.floor((i * fineMs) / coarseMs));
				slot.mergeInto(into);
				merged.add(into);
			} else if (i < settled) {
				slot.freeze();
			}
		}

		for (const s of merged) {
			s.freeze();
		}

		for (const i of this.coarse.keys()) {
			if (i * coarseMs < this.keptFromMs) {
				this.coarse.delete(i);
			}
		}
	}

	/** Every count of a slot that starts in [from, to), with the slot's start and width. */
	visit(from: number, to: number, visitor: SlotVisitor): void {
		const lo = Math.max(from, this.keptFromMs);
		for (const [slots, width] of [[this.coarse, coarseMs], [this.fine, fineMs]] as const) {
			for (const i of slotsIn(slots, Math.floor(lo / width), Math.ceil(to / width))) {
				const start = i * width;
				slots.get(i)!.forEach((k, n) => {
					visitor(k, n, start, width);
				});
			}
		}
	}

	combo(id: number): Combo {
		return this.combos[id]!;
	}

	/** Every combination seen, for tag values. */
	allCombos(): readonly Combo[] {
		return this.combos;
	}

	get slots(): number {
		return this.fine.size + this.coarse.size;
	}

	private comboId(e: LogEvent): number {
		// Events of one batch mostly share their fields: compare with the last one first.
		const p = this.last.e;
		if (p && p.service === e.service && p.host === e.host && p.sourceId === e.sourceId && p.type === e.type) {
			this.last.e = e;
			return this.last.id;
		}

		// Else one map per field, nested: no key text to build per event.
		const byHost = child(this.comboIds, e.service);
		const bySource = child(byHost, e.host);
		const byType = child(bySource, e.sourceId);
		let id = byType.get(e.type);
		if (id === undefined) {
			if (this.combos.length >= maxCombos) {
				this.overflowed++;
				id = this.otherId();
			} else {
				id = this.combos.length;
				this.combos.push({service: e.service, host: e.host, source: e.sourceId, type: e.type});
				byType.set(e.type, id);
			}
		}

		this.last = {e, id};
		return id;
	}

	private other: number | undefined;

	private otherId(): number {
		if (this.other === undefined) {
			this.other = this.combos.length;
			this.combos.push({service: '(other)', host: '(other)', source: '(other)', type: '(other)'});
		}

		return this.other;
	}
}

export function keyCombo(key: number): number {
	return Math.floor(key / 64);
}

export function keyLevel(key: number): Level {
	return LEVELS[Math.floor(key / 8) % 8]!;
}

export function keyStatusClass(key: number): number {
	return key % 8;
}

export function dimensionsOf(c: Combo, level: Level): Dimensions {
	return {service: c.service, level, host: c.host, source: c.source, type: c.type};
}

function child<K, V>(map: Map<K, Map<string, V>>, key: K): Map<string, V> {
	let m = map.get(key);
	if (!m) {
		m = new Map();
		map.set(key, m);
	}

	return m;
}

function slotOf(map: Map<number, Slot>, i: number): Slot {
	let s = map.get(i);
	if (!s) {
		s = new Slot();
		map.set(i, s);
	}

	return s;
}

function floorTo(t: number, unit: number): number {
	return Math.floor(t / unit) * unit;
}

/**
 * The slots held with an index in [first, end), in order. A range wider than what is held (a
 * window reaching years ahead, say) is not stepped through slot by slot: what is held is sorted.
 */
function slotsIn(slots: ReadonlyMap<number, unknown>, first: number, end: number): number[] {
	const out: number[] = [];
	if (end - first > slots.size) {
		for (const i of slots.keys()) {
			if (i >= first && i < end) {
				out.push(i);
			}
		}

		return out.sort((a, b) => a - b);
	}

	for (let i = first; i < end; i++) {
		if (slots.has(i)) {
			out.push(i);
		}
	}

	return out;
}
