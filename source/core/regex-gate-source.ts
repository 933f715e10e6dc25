import {type Node, char, longest, maxPaths, maxSteps, negates, nullable, parseBounded, pathCount} from './regex-bounded.js';

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
	let bestScore = -1;
	for (const segment of segments(node)) {
		// Empty matches would stop the scan everywhere; negated classes need V8's `u` to read code points.
		if (nullable(segment) || negates(segment) || !sameRepeats(segment)) {
			continue;
		}

		const paths = pathCount(segment);
		const steps = paths * longest(segment);
		if (paths > maxPaths || steps > maxSteps) {
			continue;
		}

		// Plain characters rule out most; then length.
		const score = (literals(segment) * 10_000) + Math.min(shortest(segment), 9999);
		if (score > bestScore) {
			bestScore = score;
			best = {source: render(segment, ci), paths, steps};
		}
	}

	return best;
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

/** Characters every match has that are one letter or character (in either case under (?i)). */
function literals(node: Node): number {
	switch (node.kind) {
		case 'set': {
			const [from, to] = node.ranges[0]!;
			const single = node.ranges.length === 1 && from === to;
			const pair = node.ranges.length === 2 && node.ranges.every(([a, b]) => a === b) && Math.abs(node.ranges[0]![0] - node.ranges[1]![0]) === 32;
			return single || pair ? 1 : 0;
		}

		case 'assert': {
			return 0;
		}

		case 'concat': {
			return node.items.reduce((sum, item) => sum + literals(item), 0);
		}

		case 'alt': {
			return Math.min(...node.items.map(item => literals(item)));
		}

		case 'group': {
			return literals(node.body);
		}

		case 'repeat': {
			return node.min * literals(node.body);
		}
	}
}

function shortest(node: Node): number {
	switch (node.kind) {
		case 'set': {
			return 1;
		}

		case 'assert': {
			return 0;
		}

		case 'concat': {
			return node.items.reduce((sum, item) => sum + shortest(item), 0);
		}

		case 'alt': {
			return Math.min(...node.items.map(item => shortest(item)));
		}

		case 'group': {
			return shortest(node.body);
		}

		case 'repeat': {
			return node.min * shortest(node.body);
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
	switch (node.kind) {
		case 'set': {
			const ranges = ci ? folded(node.ranges) : node.ranges;
			const parts = ranges.map(([from, to]) => (from === to ? renderChar(from) : `${renderChar(from)}-${renderChar(to)}`));
			return parts.length === 1 && ranges[0]![0] === ranges[0]![1] ? parts[0]! : `[${parts.join('')}]`;
		}

		case 'assert': {
			return node.source;
		}

		case 'concat': {
			return node.items.map(item => (item.kind === 'alt' ? `(?:${render(item, ci)})` : render(item, ci))).join('');
		}

		case 'alt': {
			return node.items.map(item => render(item, ci)).join('|');
		}

		case 'group': {
			return `(?:${render(node.body, ci)})`;
		}

		case 'repeat': {
			const body = node.body.kind === 'set' ? render(node.body, ci) : `(?:${render(node.body, ci)})`;
			return body + (node.min === node.max ? `{${node.min}}` : `{${node.min},${node.max}}`);
		}
	}
}
