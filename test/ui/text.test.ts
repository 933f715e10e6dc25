import stringWidth from 'string-width';
import {describe, expect, test} from 'vitest';
import {chunks, cut, cutSegments, cutStart, fit, measure, width} from '../../source/ui/text.js';
import {createFormatter} from '../../source/sinks/format.js';
import {event} from '../support/events.js';

// Widths and cuts by grapheme cluster, the rule string-width and Ink use; TABs to spaces.

const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}';
const flags = '\u{1F1FA}\u{1F1F8}\u{1F1EF}\u{1F1F5}';
const clusters = (s: string): string[] => [...new Intl.Segmenter().segment(s)].map(x => x.segment);

describe('width and cut', () => {
	test.each([
		['ascii', 'plain text', 10],
		['combining marks', 'cafe\u0301 Z\u0334\u0321\u031Ba\u0337', 7],
		['ZWJ family', `${family}!`, 3],
		['flags', flags, 4],
		['CJK', '日本語のログ', 12],
		['halfwidth kana with a voiced mark', 'ｶﾞｷﾞ', 4],
		['Hangul jamo', '\u1100\u1161\u11A8한', 4],
		['mixed', `a${family}日e\u0301${flags}`, 1 + 2 + 2 + 1 + 4],
	])('%s', (_, text, columns) => {
		expect(width(text)).toBe(columns);
		expect(width(text)).toBe(stringWidth(text));
		for (let max = 0; max <= columns + 1; max++) {
			const head = cut(text, max);
			expect(width(head)).toBeLessThanOrEqual(max);
			// Never inside a cluster: the head is whole clusters of the text.
			const parts = clusters(text);
			let joined = '';
			for (const c of parts) {
				if (joined.length >= head.length) {
					break;
				}

				joined += c;
			}

			expect(joined).toBe(head);
		}
	});

	test('random mixes of the hard cases: widths as string-width says, cuts only between clusters', () => {
		const pieces = ['a', 'Z', ' ', '.', 'é', 'e\u0301', '\u0308', '日', 'ｶ', 'ﾞ', '한', '\u1100', '\u1161', family, '\u{1F44D}\u{1F3FD}', '\u2764\uFE0F', flags, '\u{1F1FA}', '\u200D', '\u0915\u094D\u0937', 'ก\u0E31', '\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}'];
		let seed = 42;
		const next = (n: number): number => {
			seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
			return seed % n;
		};

		for (let k = 0; k < 400; k++) {
			let text = '';
			for (let n = next(30); n > 0; n--) {
				text += pieces[next(pieces.length)]!;
			}

			expect(width(text), JSON.stringify(text)).toBe(clusters(text).reduce((a, c) => a + stringWidth(c), 0));
			const max = next(20);
			const head = cut(text, max);
			expect(width(head)).toBeLessThanOrEqual(max);
			const boundaries = new Set(clusters(text).map((_, i, all) => all.slice(0, i + 1).join('').length));
			expect(head.length === 0 || boundaries.has(head.length), JSON.stringify([text, head])).toBe(true);
		}
	});

	test('a cut takes the widest whole-cluster prefix: a wide cluster that does not fit is left out, not split', () => {
		expect(cut(`ab${family}cd`, 3)).toBe('ab');
		expect(cut(`ab${family}cd`, 4)).toBe(`ab${family}`);
		expect(cut('日本語', 5)).toBe('日本');
		expect(cut(`x${'\u0301'.repeat(500)}y`, 1)).toBe(`x${'\u0301'.repeat(500)}`); // one cluster, however long
	});

	test('long lines are read only as far as the cut', () => {
		const big = 'é'.repeat(1 << 20);
		expect(cut(big, 10)).toBe('é'.repeat(10));
		expect(measure(big, 10)).toEqual({end: 10, width: 10});
		expect(chunks('x'.repeat(1 << 20), 100, 3)).toEqual(['x'.repeat(100), 'x'.repeat(100), 'x'.repeat(100)]);
	});

	test('TABs count to the next multiple of 8 and are shown as spaces', () => {
		expect(width('a\tb')).toBe(9);
		expect(fit('a\tb\t日\tz', 25)).toBe('a       b       日      z');
		expect(cutSegments([{text: 'a\tb'}], 4).map(s => s.text)).toEqual(['a']);
		expect(fit('ab\tc', 12)).toBe('ab      c   ');
		const segs = cutSegments([{text: 'abc'}, {text: '\tx'}], 20);
		expect(segs.map(s => s.text).join('')).toBe('abc     x');
		expect(segs.map(s => s.text).join('')).not.toContain('\t');
		expect(chunks('ab\tcdefghij', 8)).toEqual(['ab      ', 'cdefghij']);
	});

	test('cutStart keeps the end', () => {
		expect(cutStart('hello 日本語', 5)).toBe('日本語'.slice(1));
		expect(cutStart(`x${family}`, 2)).toBe(family);
	});
});

describe('-o text and -o raw to a terminal', () => {
	test('TABs become spaces; into a pipe they stay', async () => {
		const e = event({message: 'a\tb', raw: 'r\ts', service: 'api'});
		const terminal = await createFormatter({format: 'text', colorLevel: 0, toTerminal: true});
		const pipe = await createFormatter({format: 'text', colorLevel: 0, toTerminal: false});
		expect(terminal(e)).toContain('a       b');
		expect(terminal(e)).not.toContain('\t');
		expect(pipe(e)).toContain('a\tb');
		expect((await createFormatter({format: 'raw', colorLevel: 0, toTerminal: true}))(e)).toBe('r       s');
		expect((await createFormatter({format: 'raw', colorLevel: 0, toTerminal: false}))(e)).toBe('r\ts');
		expect((await createFormatter({format: 'template', template: '{message}', colorLevel: 0, toTerminal: true}))(e)).toBe('a       b');
		expect((await createFormatter({format: 'text', colorLevel: 1, toTerminal: true}))(e)).not.toContain('\t');
	});
});
