// The parser of the RE2 patterns core/regex-bounded.ts translates for V8: RE2's syntax read into a
// small tree (sets, assertions, concatenations, alternations, groups, repeats), with whatever the
// translation does not take refused (Refused). The rules it follows are at the top of regex-bounded.ts.

export type Range = [number, number];

export type Node =
	| {kind: 'set'; ranges: Range[]; negated: boolean}
	| {kind: 'assert'; source: string}
	| {kind: 'concat'; items: Node[]}
	| {kind: 'alt'; items: Node[]}
	| {kind: 'group'; capture: boolean; body: Node}
	| {kind: 'repeat'; body: Node; min: number; max: number; lazy: boolean};

export class Refused extends Error {}

export function refuse(): never {
	throw new Refused();
}

const digit: Range[] = [[0x30, 0x39]];
const word: Range[] = [[0x30, 0x39], [0x41, 0x5A], [0x5F, 0x5F], [0x61, 0x7A]];
const space: Range[] = [[0x09, 0x0A], [0x0C, 0x0D], [0x20, 0x20]];
const controls: Readonly<Record<string, number>> = {a: 0x07, f: 0x0C, n: 0x0A, r: 0x0D, t: 0x09, v: 0x0B};

/** RE2 reads a backslash before ASCII punctuation as that character. */
function punctuation(c: string | undefined): boolean {
	return c !== undefined && c.length === 1 && c.charCodeAt(0) < 0x80 && !/[\dA-Za-z]/.test(c);
}

export class Parser {
	private i = 0;

	constructor(private readonly p: string, private readonly ci: boolean) {}

	parse(): Node {
		const node = this.alternation();
		if (this.i !== this.p.length) {
			refuse(); // an unmatched `)`
		}

		return node;
	}

	private alternation(): Node {
		const items = [this.concatenation()];
		while (this.p[this.i] === '|') {
			this.i++;
			items.push(this.concatenation());
		}

		return items.length === 1 ? items[0]! : {kind: 'alt', items};
	}

	private concatenation(): Node {
		const items: Node[] = [];
		while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') {
			items.push(this.quantified(this.atom()));
		}

		return items.length === 1 ? items[0]! : {kind: 'concat', items};
	}

	private quantified(atom: Node): Node {
		const q = this.p[this.i];
		let min: number;
		let max: number;
		if (q === '*' || q === '+' || q === '?') {
			min = q === '+' ? 1 : 0;
			max = q === '?' ? 1 : Number.POSITIVE_INFINITY;
			this.i++;
		} else if (q === '{') {
			const m = /^\{(\d{1,4})(?:(,)(\d{0,4}))?\}/.exec(this.p.slice(this.i, this.i + 12));
			if (!m) {
				refuse(); // RE2 reads a brace that is no count as text: not followed here
			}

			min = Number(m[1]);
			max = m[2] === undefined ? min : (m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]));
			this.i += m[0].length;
		} else {
			return atom;
		}

		if (atom.kind === 'assert') {
			refuse();
		}

		let lazy = false;
		if (this.p[this.i] === '?') {
			lazy = true;
			this.i++;
		}

		if ('*+?{'.includes(this.p[this.i] ?? '_')) {
			refuse(); // a repeated repeat: RE2 refuses most
		}

		return {kind: 'repeat', body: atom, min, max, lazy};
	}

	private atom(): Node {
		const p = this.p;
		const c = p[this.i]!;
		if (c === '(') {
			let capture = true;
			if (p[this.i + 1] === '?') {
				const named = /^\(\?P?<[A-Za-z_]\w*>/.exec(p.slice(this.i, this.i + 48));
				if (p.startsWith('(?:', this.i)) {
					capture = false;
					this.i += 3;
				} else if (named) {
					this.i += named[0].length; // a named group is numbered as any other
				} else {
					refuse(); // flags, lookarounds
				}
			} else {
				this.i++;
			}

			const body = this.alternation();
			if (p[this.i] !== ')') {
				refuse();
			}

			this.i++;
			return {kind: 'group', capture, body};
		}

		if (c === '[') {
			return this.charClass();
		}

		if (c === '\\') {
			const e = p[this.i + 1];
			this.i += 2;
			if (e === 'b' || e === 'B') {
				return {kind: 'assert', source: `\\${e}`};
			}

			const ranges = e === 'd' || e === 'D' ? digit : (e === 'w' || e === 'W' ? word : (e === 's' || e === 'S' ? space : undefined));
			if (ranges) {
				return this.set(ranges, e === 'D' || e === 'W' || e === 'S');
			}

			const code = this.escapedChar(e);
			return this.set([[code, code]], false);
		}

		if (c === '.') {
			this.i++;
			return this.set([[0x0A, 0x0A]], true);
		}

		if (c === '^' || c === '$') {
			this.i++;
			return {kind: 'assert', source: c};
		}

		if ('*+?{})'.includes(c)) {
			refuse();
		}

		this.i++;
		return this.set([[c.charCodeAt(0), c.charCodeAt(0)]], false);
	}

	/** The character of an escape that stands for one (`\.`, `\n`), else refused. */
	private escapedChar(e: string | undefined): number {
		if (punctuation(e)) {
			return e!.charCodeAt(0);
		}

		const control = e === undefined ? undefined : controls[e];
		return control ?? refuse();
	}

	private set(ranges: Range[], negated: boolean): Node {
		if (negated && this.ci) {
			refuse(); // negated classes fold differently under (?i)
		}

		return {kind: 'set', ranges, negated};
	}

	private charClass(): Node {
		const p = this.p;
		this.i++;
		let negated = false;
		if (p[this.i] === '^') {
			negated = true;
			this.i++;
		}

		const ranges: Range[] = [];
		let first = true;
		while (this.i < p.length && (p[this.i] !== ']' || first)) {
			first = false;
			const c = p[this.i]!;
			if (c === '[') {
				refuse(); // [:alpha:]
			}

			let from: number;
			if (c === '\\') {
				const e = p[this.i + 1];
				this.i += 2;
				const perl = e === 'd' ? digit : (e === 'w' ? word : (e === 's' ? space : undefined));
				if (perl) {
					if (p[this.i] === '-' && p[this.i + 1] !== ']') {
						refuse();
					}

					ranges.push(...perl);
					continue;
				}

				from = this.escapedChar(e);
			} else {
				from = c.charCodeAt(0);
				this.i++;
			}

			let to = from;
			if (p[this.i] === '-' && p[this.i + 1] !== ']' && p[this.i + 1] !== undefined) {
				const d = p[this.i + 1]!;
				this.i += 2;
				if (d === '\\') {
					to = this.escapedChar(p[this.i]);
					this.i++;
				} else if (d === '[') {
					refuse();
				} else {
					to = d.charCodeAt(0);
				}

				if (to < from) {
					refuse();
				}
			}

			ranges.push([from, to]);
		}

		if (p[this.i] !== ']') {
			refuse();
		}

		this.i++;
		return this.set(ranges, negated);
	}
}

/** Parse a pattern for tests and gates: the tree, or undefined for what is refused. */
export function parseBounded(pattern: string): Node | undefined {
	const ci = pattern.startsWith('(?i)');
	try {
		return new Parser(ci ? pattern.slice(4) : pattern, ci).parse();
	} catch (error) {
		if (error instanceof Refused) {
			return undefined;
		}

		throw error;
	}
}
