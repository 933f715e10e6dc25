import {type Node, Parser, type Range, Refused, refuse} from './regex-parse.js';

// User regexes (RE2 syntax) that may run on V8's backtracking engine without losing linear time,
// written as V8 regexes with exactly RE2's meaning (core/regex.ts runs them; re2js runs the rest).
//
// Why bounded patterns stay linear: with no `*`, `+` or `{n,}`, a backtracking engine can follow a
// pattern from one start position along a bounded number of paths (concatenation multiplies the
// counts, alternation adds them, `x{m,n}` is the sum of paths(x)^k for k from m to n, `?` is {0,1}),
// each of bounded length. When that count is small (at most maxPaths, and times the longest match at
// most maxSteps), searching a text costs at most its length times that, whatever the text.
//
// Patterns whose last item is an unbounded run of one character class (`customer_id=(\d+)`,
// `session=([A-Za-z0-9]{16,})`), with only a bounded part before it, are linear too: nothing follows
// the run, so from a start position either the run reaches its minimum and the match succeeds at once
// (greedy: the whole run is read once, and the next search starts past it), or it fails after fewer
// than minimum + 1 characters. A failed start costs at most paths(prefix) x (its length + minimum + 1),
// held under maxSteps as for bounded patterns.
//
// The translation takes only constructs whose meaning is the same in both engines, and refuses the
// rest (the pattern then stays on re2js):
// - ASCII patterns only; literals as \xHH or letters and digits; classes written out as ranges;
// - \d \w \b \B are ASCII in both; \s is RE2's [\t\n\f\r ]; `.` is RE2's [^\n] (V8's also leaves out
//   \r, \u2028 and \u2029); negated classes and `.` need V8's `u` flag (one code point, as RE2 reads);
// - a leading (?i): V8's `i` without `u` folds ASCII letters in pairs and nothing else into ASCII,
//   while RE2 also folds the Kelvin sign (U+212A) with k and the long s (U+017F) with s: those two are
//   added where k or s may match. Under (?i), `.`, negated classes and their escapes are refused;
// - capture groups keep their numbers; none may sit inside a repeat of more than one iteration (V8
//   clears them at each iteration, RE2 keeps the last value), and no repeat with a choice of counts
//   may hold a body that matches empty (V8 refuses an empty extra iteration, RE2 takes it);
// - other flags, lookarounds, backreferences, \A \z \pN \x{..} \Q..\E [[:alpha:]], lone braces: refused.

/** Paths a bounded pattern may have and still run on V8. */
export const maxPaths = 1000;

/**
 * Paths times the longest match: the characters one start may read at worst. Texts are untrusted and
 * up to 1 MiB long: this keeps the worst case near re2js's (which steps through every state of the
 * pattern at each character), while ordinary texts take the fast way out at most starts.
 */
export const maxSteps = 10_000;

/** The longest bounded part a pattern may have and still run on V8 (characters). */
const maxLength = 4096;

/** How many paths a backtracking engine may follow from one start; Infinity for an unbounded repeat. Capped just past maxPaths. */
export function pathCount(node: Node): number {
	const cap = (n: number) => Math.min(n, maxPaths + 1);
	switch (node.kind) {
		case 'set':
		case 'assert': {
			return 1;
		}

		// Each item counted once: counting it twice at every level would cost 2^depth.
		case 'concat': {
			let product = 1;
			for (const item of node.items) {
				const paths = pathCount(item);
				if (paths === Number.POSITIVE_INFINITY) {
					return paths;
				}

				product = cap(product * paths);
			}

			return product;
		}

		case 'alt': {
			let sum = 0;
			for (const item of node.items) {
				const paths = pathCount(item);
				if (paths === Number.POSITIVE_INFINITY) {
					return paths;
				}

				sum = cap(sum + paths);
			}

			return sum;
		}

		case 'group': {
			return pathCount(node.body);
		}

		case 'repeat': {
			const body = pathCount(node.body);
			if (node.max === Number.POSITIVE_INFINITY || body === Number.POSITIVE_INFINITY) {
				return Number.POSITIVE_INFINITY;
			}

			// The sum of body^k for k from min to max.
			let sum = 0;
			let power = 1;
			for (let k = 0; k <= node.max; k++) {
				if (k >= node.min) {
					sum = cap(sum + power);
				}

				power = cap(power * body);
				if (sum > maxPaths) {
					break;
				}
			}

			return sum;
		}
	}
}

/** The longest text a bounded node can match. */
export function longest(node: Node): number {
	switch (node.kind) {
		case 'set': {
			return 1;
		}

		case 'assert': {
			return 0;
		}

		case 'concat': {
			return node.items.reduce((sum, item) => sum + longest(item), 0);
		}

		case 'alt': {
			return Math.max(...node.items.map(item => longest(item)));
		}

		case 'group': {
			return longest(node.body);
		}

		case 'repeat': {
			return node.max * longest(node.body);
		}
	}
}

export function nullable(node: Node): boolean {
	switch (node.kind) {
		case 'set': {
			return false;
		}

		case 'assert': {
			return true;
		}

		case 'concat': {
			return node.items.every(item => nullable(item));
		}

		case 'alt': {
			return node.items.some(item => nullable(item));
		}

		case 'group': {
			return nullable(node.body);
		}

		case 'repeat': {
			return node.min === 0 || nullable(node.body);
		}
	}
}

function hasCapture(node: Node): boolean {
	switch (node.kind) {
		case 'concat':
		case 'alt': {
			return node.items.some(item => hasCapture(item));
		}

		case 'group': {
			return node.capture || hasCapture(node.body);
		}

		case 'repeat': {
			return hasCapture(node.body);
		}

		default: {
			return false;
		}
	}
}

/** Refuse repeats whose meaning differs between the engines (see the top of this file). */
function checkRepeats(node: Node): void {
	if (node.kind === 'concat' || node.kind === 'alt') {
		for (const item of node.items) {
			checkRepeats(item);
		}
	} else if (node.kind === 'group') {
		checkRepeats(node.body);
	} else if (node.kind === 'repeat') {
		if (node.max > node.min && nullable(node.body)) {
			refuse();
		}

		// The repeated group itself may capture (both keep its last iteration), nothing inside it.
		const inner = node.body.kind === 'group' ? node.body.body : node.body;
		if (node.max > 1 && hasCapture(inner)) {
			refuse();
		}

		checkRepeats(node.body);
	}
}

/** A code point for a V8 regex, valid with and without `u`. */
export function char(code: number): string {
	return /[\dA-Za-z]/.test(String.fromCharCode(code)) ? String.fromCharCode(code) : `\\x${code.toString(16).padStart(2, '0')}`;
}

function holds(ranges: Range[], code: number): boolean {
	return ranges.some(([from, to]) => from <= code && code <= to);
}

function renderSet(node: Extract<Node, {kind: 'set'}>, ci: boolean): string {
	const parts = node.ranges.map(([from, to]) => (from === to ? char(from) : `${char(from)}-${char(to)}`));
	// Under (?i) RE2 folds k with the Kelvin sign and s with the long s; V8's `i` alone does not.
	if (ci && (holds(node.ranges, 0x4B) || holds(node.ranges, 0x6B))) {
		parts.push('\\u212A');
	}

	if (ci && (holds(node.ranges, 0x53) || holds(node.ranges, 0x73))) {
		parts.push('\\u017F');
	}

	if (!node.negated && parts.length === 1 && node.ranges[0]![0] === node.ranges[0]![1]) {
		return parts[0]!;
	}

	return `[${node.negated ? '^' : ''}${parts.join('')}]`;
}

function render(node: Node, ci: boolean): string {
	return writeNode(node, set => renderSet(set, ci), true);
}

/**
 * A parsed pattern written as V8 source: `set` writes each class (how case folds is the caller's),
 * and capture groups stay capturing only with `captures`.
 */
export function writeNode(node: Node, set: (node: Extract<Node, {kind: 'set'}>) => string, captures: boolean): string {
	const write = (n: Node): string => writeNode(n, set, captures);
	switch (node.kind) {
		case 'set': {
			return set(node);
		}

		case 'assert': {
			return node.source;
		}

		case 'concat': {
			return node.items.map(item => (item.kind === 'alt' ? `(?:${write(item)})` : write(item))).join('');
		}

		case 'alt': {
			return node.items.map(item => write(item)).join('|');
		}

		case 'group': {
			return `${node.capture && captures ? '(' : '(?:'}${write(node.body)})`;
		}

		case 'repeat': {
			// A set renders as one character or one class; a group as itself.
			const body = node.body.kind === 'group' || node.body.kind === 'set' ? write(node.body) : `(?:${write(node.body)})`;
			const count = node.max === Number.POSITIVE_INFINITY ? (node.min === 0 ? '*' : (node.min === 1 ? '+' : `{${node.min},}`)) : (node.min === node.max ? `{${node.min}}` : (node.min === 0 && node.max === 1 ? '?' : `{${node.min},${node.max}}`));
			return body + count + (node.lazy ? '?' : '');
		}
	}
}

export function negates(node: Node): boolean {
	switch (node.kind) {
		case 'set': {
			return node.negated;
		}

		case 'concat':
		case 'alt': {
			return node.items.some(item => negates(item));
		}

		case 'group':
		case 'repeat': {
			return negates(node.body);
		}

		default: {
			return false;
		}
	}
}

/** Is the node a greedy unbounded run of one class, or a capture group of just that? */
function tailRun(node: Node): Extract<Node, {kind: 'repeat'}> | undefined {
	const run = node.kind === 'group' && node.capture ? node.body : node;
	return run.kind === 'repeat' && run.max === Number.POSITIVE_INFINITY && !run.lazy && run.body.kind === 'set' ? run : undefined;
}

/** Is the parsed pattern linear on a backtracking engine by the arguments at the top of this file? */
function linear(node: Node): boolean {
	const paths = pathCount(node);
	if (paths !== Number.POSITIVE_INFINITY) {
		return paths <= maxPaths && paths * Math.max(longest(node), 1) <= maxSteps;
	}

	// Tail-unbounded: a bounded prefix, then one greedy unbounded run of a class that ends the pattern.
	const items = node.kind === 'concat' ? node.items : [node];
	const run = tailRun(items.at(-1)!);
	if (run === undefined) {
		return false;
	}

	const prefix: Node = {kind: 'concat', items: items.slice(0, -1)};
	const prefixPaths = pathCount(prefix);
	return prefixPaths <= maxPaths && prefixPaths * (longest(prefix) + run.min + 1) <= maxSteps && longest(prefix) <= maxLength;
}

export type BoundedRegex = {
	/** V8 source with RE2's meaning. */
	readonly source: string;
	/** V8 flags: `i` for (?i), `u` where the source reads code points. */
	readonly flags: string;
	/** The parsed pattern (without its leading flags). */
	readonly node: Node;
};

/** The pattern as a V8 regex that keeps RE2's meaning and runs in linear time, or undefined (see the top of this file). */
export function boundedRegex(pattern: string): BoundedRegex | undefined {
	const ci = pattern.startsWith('(?i)');
	const body = ci ? pattern.slice(4) : pattern;
	if (!/^[\x20-\x7E]*$/.test(body)) {
		return undefined; // ASCII text only (no control characters written as they are)
	}

	try {
		const node = new Parser(body, ci).parse();
		checkRepeats(node);
		if (!linear(node)) {
			return undefined;
		}

		const source = render(node, ci);
		const flags = (ci ? 'i' : '') + (negates(node) ? 'u' : '');
		new RegExp(source, flags); // eslint-disable-line no-new
		return {source, flags, node};
	} catch (error) {
		if (error instanceof Refused || error instanceof SyntaxError) {
			return undefined;
		}

		throw error;
	}
}
