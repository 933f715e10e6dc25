import {commonness} from './regex-prefilter.js';
import {char, longest, maxPaths, maxSteps, negates, nullable, pathCount, writeNode} from './regex-bounded.js';
import {type Node, parseBounded} from './regex-parse.js';

// The part of a user regex that the redaction scan looks for (core/redact-text.ts): a V8 regex
// source with no flags and no captures, which matches somewhere in every text the pattern matches,
// so a text it does not match is ruled out for that pattern. The redaction scan joins these with the
// built-in rules' marks in one regex: one scan per text for every rule.
//
// The source is one stretch of the pattern between unbounded repeats (the whole pattern when it has
// none), with the runs of one class at its ends cut to their minimum: `session=([A-Za-z0-9]{16,})`
// gives `session=[A-Za-z0-9]{16}`, `[a-z0-9-]+\.corp\.example\.com` gives `[a-z0-9-]\.corp\.example\.com`.
// Whatever a match holds, that stretch of it matches there too. Case is spelled out (`[cC]`, and the
// Kelvin sign and long s where RE2's (?i) folds them with k and s), so the flags of the patterns need
// not agree. It is bounded: at most maxPaths paths from one start, each at most maxSteps / paths long
// (core/regex-bounded.ts), which the scan sums over the rules it joins.

export type GateSource = {
	/** V8 source for a regex without flags; no captures. */
	readonly source: string;
	/** Paths from one start, and paths times the longest match: what one start may cost. */
	readonly paths: number;
	readonly steps: number;
	/** V8 source of the class its matches start with. */
	readonly first: string;
};

type Range = [number, number];
type Repeat = Extract<Node, {kind: 'repeat'}>;

/** What the redaction scan may look for in place of the pattern, or undefined (the rule is then run on every text its own gates let through). */
export function gateSource(pattern: string): GateSource | undefined {
	const ci = pattern.startsWith('(?i)');
	if (!/^[\x20-\x7E]*$/.test(ci ? pattern.slice(4) : pattern)) {
		return undefined;
	}

	const node = parseBounded(pattern);
	if (node === undefined) {
		return undefined;
	}

	let best: GateSource | undefined;
	let bestCost = maxCost;
	for (const segment of segments(node)) {
		const items = segment.kind === 'concat' ? segment.items : [segment];
		// Any stretch of a match to its segment's end: the one that starts at the rarest character.
		for (let i = 0; i < items.length; i++) {
			const first = firstSet(items[i]!);
			const factor: Node = {kind: 'concat', items: items.slice(i)};
			// Empty matches would stop the scan everywhere; negated classes need V8's `u` to read code points.
			if (first === undefined || nullable(factor) || negates(factor) || !sameRepeats(factor)) {
				continue;
			}

			const paths = pathCount(factor);
			const steps = paths * longest(factor);
			const cost = share(first, ci) + (20 * hitShare(factor, ci));
			if (paths <= maxPaths && steps <= maxSteps && cost < bestCost) {
				bestCost = cost;
				best = {source: render(factor, ci), paths, steps, first: render(first, ci)};
			}
		}
	}

	return best;
}

/**
 * What a gate may cost at most: the share of a text's places where the scan must try it, plus 20 times
 * the share where it matches (a match costs the rule's own search). Dearer rules are tested by their gates.
 */
const maxCost = 0.15;

/** The share of characters in logs a class holds, roughly (from their order in core/regex-prefilter.ts). */
function share(node: Extract<Node, {kind: 'set'}>, ci: boolean): number {
	let sum = 0;
	for (const [from, to] of ci ? folded(node.ranges) : node.ranges) {
		for (let c = from; c <= Math.min(to, 0x7F); c++) {
			// `=` is rare in prose but not in key=value logs: counted as common as `/`.
			sum += (commonness(c === 0x3D ? '/' : String.fromCharCode(c)) + 0.2) / 200;
		}
	}

	// No class holds every character of a log line.
	return Math.min(sum, 0.9);
}

/** The share of places a stretch matches at, roughly: the product of the shares of its first classes. */
function hitShare(factor: Extract<Node, {kind: 'concat'}>, ci: boolean): number {
	let product = 1;
	let count = 0;
	for (const item of factor.items) {
		const set = firstSet(item);
		if (set === undefined || count >= 6) {
			break;
		}

		product *= item.kind === 'set' ? share(set, ci) : share(set, ci) ** (item as Repeat).min;
		count++;
		if (item.kind !== 'set') {
			break; // a repeat: what follows it is not counted
		}
	}

	return product;
}

/** The class a stretch must start with: a class, or a repeat of one at least once; else undefined. */
function firstSet(item: Node): Extract<Node, {kind: 'set'}> | undefined {
	if (item.kind === 'set') {
		return item.negated ? undefined : item;
	}

	if (item.kind === 'repeat' && item.min > 0 && item.body.kind === 'set' && !item.body.negated) {
		return item.body;
	}

	return undefined;
}

/** The stretches of the pattern between its unbounded repeats, with the runs of a class at their ends cut to their minimum. */
function segments(node: Node): Node[] {
	const items = node.kind === 'concat' ? node.items : [node];
	const out: Node[] = [];
	let current: Node[] = [];
	for (const item of items) {
		if (pathCount(item) !== Number.POSITIVE_INFINITY) {
			current.push(item);
			continue;
		}

		const run = classRun(item);
		const cut: Node | undefined = run && run.min > 0 ? {kind: 'repeat', body: run.body, min: run.min, max: run.min, lazy: false} : undefined;
		if (cut) {
			current.push(cut); // the run's first characters
		}

		out.push({kind: 'concat', items: current});
		current = cut ? [cut] : []; // its last characters
	}

	out.push({kind: 'concat', items: current});
	return out;
}

/** An unbounded run of one class (in a group or not), or undefined. */
function classRun(item: Node): Repeat | undefined {
	const run = item.kind === 'group' ? item.body : item;
	return run.kind === 'repeat' && run.max === Number.POSITIVE_INFINITY && run.body.kind === 'set' ? run : undefined;
}

/** No repeat with a choice of counts around a body that matches empty (the engines differ there). */
function sameRepeats(node: Node): boolean {
	switch (node.kind) {
		case 'concat':
		case 'alt': {
			return node.items.every(item => sameRepeats(item));
		}

		case 'group': {
			return sameRepeats(node.body);
		}

		case 'repeat': {
			return !(node.max > node.min && nullable(node.body)) && sameRepeats(node.body);
		}

		default: {
			return true;
		}
	}
}

/** A class with its ASCII letters in both cases, and the two letters beyond ASCII that RE2 folds into k and s. */
function folded(ranges: readonly Range[]): Range[] {
	const out: Range[] = [...ranges];
	for (const [from, to] of ranges) {
		for (const [low, high, shift] of [[0x41, 0x5A, 32], [0x61, 0x7A, -32]] as const) {
			const a = Math.max(from, low);
			const b = Math.min(to, high);
			if (a <= b) {
				out.push([a + shift, b + shift]);
			}
		}
	}

	const holds = (code: number) => out.some(([from, to]) => from <= code && code <= to);
	if (holds(0x4B) || holds(0x6B)) {
		out.push([0x21_2A, 0x21_2A]);
	}

	if (holds(0x53) || holds(0x73)) {
		out.push([0x17F, 0x17F]);
	}

	return out;
}

function renderChar(code: number): string {
	return code > 0x7F ? `\\u${code.toString(16).padStart(4, '0')}` : char(code);
}

function render(node: Node, ci: boolean): string {
	return writeNode(node, set => {
		const ranges = ci ? folded(set.ranges) : set.ranges;
		const parts = ranges.map(([from, to]) => (from === to ? renderChar(from) : `${renderChar(from)}-${renderChar(to)}`));
		return parts.length === 1 && ranges[0]![0] === ranges[0]![1] ? parts[0]! : `[${parts.join('')}]`;
	}, false);
}
