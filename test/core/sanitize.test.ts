import {describe, expect, it} from 'vitest';
import {type LogEvent} from '../../source/core/event.js';
import {LineSplitter, type SplitLine} from '../../source/core/lines.js';
import {toJson} from '../../source/sinks/format.js';
import {invisibleRanges, isInvisible, isSafe, sanitize} from '../../source/core/sanitize.js';

const ESC = '\u001B';
const families: Record<string, string> = {
	'SGR colour': `${ESC}[31mred${ESC}[0m`,
	'CSI cursor move': `${ESC}[2J${ESC}[H`,
	'OSC 52 clipboard write (BEL)': `${ESC}]52;c;ZWNobyBwd25lZA==\u0007`,
	'OSC 0 title set (ST)': `${ESC}]0;owned${ESC}\\`,
	'OSC 8 hyperlink': `${ESC}]8;;http://x${ESC}\\link${ESC}]8;;${ESC}\\`,
	DCS: `${ESC}P1$r0m${ESC}\\`,
	'8-bit CSI (C1)': '\u009B31m',
	BEL: '\u0007',
	'backspace and carriage return': 'abc\b\b\rX',
	'lone ESC': `${ESC}`,
	'unterminated OSC': `${ESC}]52;c;AAAA`,
	DEL: '\u007F',
	NUL: '\u0000',
};

describe('sanitize', () => {
	for (const [name, payload] of Object.entries(families)) {
		it(`neutralises ${name}`, () => {
			const out = sanitize(`before ${payload} after`);
			expect(isSafe(out)).toBe(true);
			expect(out).not.toContain(ESC);
			// A lone ESC takes the next bytes with it as a would-be sequence; the rest survives.
			expect(out).toMatch(name === 'lone ESC' ? /^before .*fter$/ : /^before .* after$/);
		});
	}

	it('keeps plain text and tabs as they are (same string, no copy)', () => {
		const s = 'plain\ttext ünïcödé 日本';
		expect(sanitize(s)).toBe(s);
	});

	it('shows leftover controls visibly escaped', () => {
		expect(sanitize('a\u0007b')).toBe('a\\x07b');
		expect(sanitize('a\rb')).toBe('a\\x0db');
		expect(sanitize('a\u0000b')).toBe('a\\x00b');
	});

	it('shows bidi controls and other invisible format characters escaped', () => {
		expect(sanitize('invoice\u202Egnp.exe')).toBe(String.raw`invoice\u202egnp.exe`);
		expect(sanitize('a\u2066b\u2069c\u200Ed\u061C')).toBe(String.raw`a\u2066b\u2069c\u200ed\u061c`);
		expect(sanitize('zero\u200Bwidth bom\uFEFF soft\u00ADhyphen line\u2028sep filler\u3164')).toBe(String.raw`zero\u200bwidth bom\ufeff soft\xadhyphen line\u2028sep filler\u3164`);
		// Tag characters spell invisible ASCII unless they make an emoji flag.
		expect(sanitize('hidden\u{E0041}\u{E0042}')).toBe(String.raw`hidden\u{e0041}\u{e0042}`);
		expect(isSafe(sanitize('x\u202Ey'))).toBe(true);
		expect(isSafe('x\u202Ey')).toBe(false);
	});

	it('escapes exactly the format characters, default-ignorable code points and separators, less what emoji and scripts need', () => {
		const rule = /^[[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]--[\u200C\u200D\u034F\u180B-\u180D\u180F\uFE00-\uFE0F\u{E0100}-\u{E01EF}]]$/v;
		const wrong: string[] = [];
		for (let c = 0; c <= 0x10FFFF; c++) {
			if (c >= 0xD800 && c <= 0xDFFF) {
				continue;
			}

			if (rule.test(String.fromCodePoint(c)) !== isInvisible(c)) {
				wrong.push(c.toString(16));
			}
		}

		expect(wrong).toEqual([]); // when Unicode adds some, add them to invisibleRanges
		expect(invisibleRanges.every(([a, b], i) => a <= b && (i === 0 || invisibleRanges[i - 1]![1] < a))).toBe(true);
	});

	it('keeps what scripts and emoji need: ZWJ, ZWNJ, variation selectors, combining marks, flag tags', () => {
		for (const s of [
			'family \u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}',
			'heart \u2764\uFE0F',
			'flag \u{1F1FA}\u{1F1F8} and \u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}',
			'persian \u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645',
			'cafe\u0301 Z\u0334\u0321a\u0337',
			'日本語 한국어',
		]) {
			expect(sanitize(s)).toBe(s);
			expect(isSafe(s)).toBe(true);
		}
	});

	it('escape sequences split across chunks are still caught once the line is whole', () => {
		const line = Buffer.from(`x ${ESC}]52;c;ZWNobw==\u0007 ${ESC}[31my\n`);
		for (let cut = 1; cut < line.length; cut++) {
			const splitter = new LineSplitter();
			const got = [...splitter.push(line.subarray(0, cut)), ...splitter.push(line.subarray(cut))];
			expect(got).toHaveLength(1);
			const safe = sanitize(got[0]!.text);
			expect(isSafe(safe)).toBe(true);
			expect(safe).toBe('x  y');
		}
	});
});

describe('-o json', () => {
	it('escapes what a terminal would act on or hide, and parses back to the same text', () => {
		const text = `a\u202Eb\u009B31mc\u200Bd\u{E0041}e\u2028f\u{1D173}g`;
		const e = {seq: 1, time: 0, receivedAt: 0, sourceId: 's', sourceKind: 'stdin', service: text, host: '', proc: '', type: '', level: 'INFO', message: text, raw: text, record: {[text]: text}} as LogEvent;
		const out = toJson(e);
		expect(out).not.toMatch(/[\u007F-\u009F\u200B\u2028\u202E]|[\uDB40-\uDB43]/);
		// Every invisible range core/sanitize.ts escapes, those past U+FFFF too (U+1D173, a musical format character).
		expect(out).toContain(String.raw`a\u202eb\u009b31mc\u200bd\udb40\udc41e\u2028f\ud834\udd73g`);
		const back = JSON.parse(out) as {message: string; service: string; record: Record<string, string>};
		expect([back.message, back.service, back.record[text]]).toEqual([text, text, text]);
	});
});

describe('LineSplitter', () => {
	it('splits inside a UTF-8 character without corrupting it', () => {
		const text = 'héllo wörld 日本語\nzweite Zeile\n';
		const bytes = Buffer.from(text);
		for (let cut = 1; cut < bytes.length; cut++) {
			const s = new LineSplitter();
			const got = [...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut)), ...s.end()].map(l => l.text);
			expect(got).toEqual(['héllo wörld 日本語', 'zweite Zeile']);
		}
	});

	it('copies the pieces of an unfinished line: the chunks they came from are not held (or read again)', () => {
		// A writer that appends a byte at a time, each read into its own 32 KiB buffer: held as
		// views, every byte of the line would keep 32 KiB alive.
		const s = new LineSplitter();
		const chunk = Buffer.alloc(32 * 1024);
		const got = [];
		for (const byte of Buffer.from('slow line\n')) {
			chunk[0] = byte;
			got.push(...s.push(chunk.subarray(0, 1)));
			chunk[0] = 0x3F; // the buffer used again for the next read
		}

		expect(got).toEqual([{text: 'slow line', truncated: 0}]);
	});

	it('turns invalid UTF-8 into U+FFFD', () => {
		const s = new LineSplitter();
		const got = s.push(Buffer.from([0x61, 0xFF, 0xFE, 0x62, 0x0A]));
		expect(got[0]!.text).toBe('a\uFFFD\uFFFDb');
	});

	it('cuts a line over the cap, counts the rest, and goes on with the next line', () => {
		const s = new LineSplitter(1024);
		const long = Buffer.alloc(5000, 0x61);
		const got = [...s.push(long.subarray(0, 3000)), ...s.push(long.subarray(3000)), ...s.push(Buffer.from('\nnext\n'))];
		expect(got).toHaveLength(2);
		expect(got[0]!.text).toHaveLength(1024);
		expect(got[0]!.truncated).toBe(5000 - 1024);
		expect(got[1]).toEqual({text: 'next', truncated: 0});
	});

	it('keeps a line of exactly the cap whole and cuts one a byte longer, both whole in one chunk', () => {
		const s = new LineSplitter(8);
		const got = s.push(Buffer.from('12345678\n123456789\n\n\r\nok\r\n'));
		expect(got).toEqual([
			{text: '12345678', truncated: 0},
			{text: '12345678', truncated: 1},
			{text: '', truncated: 0},
			{text: '', truncated: 0},
			{text: 'ok', truncated: 0},
		]);
	});

	it('gives the same lines for ASCII and UTF-8 input, whole or cut, however the chunks fall', () => {
		// A reference that decodes line by line, against the splitter's one decode per ASCII chunk.
		const expected = (input: Buffer, max: number): SplitLine[] => {
			const out: SplitLine[] = [];
			let start = 0;
			for (let nl = input.indexOf(0x0A); nl !== -1; nl = input.indexOf(0x0A, start)) {
				const line = input.subarray(start, nl);
				const head = line.length > max ? line.subarray(0, max) : line;
				const end = head.length > 0 && head.at(-1) === 0x0D ? head.length - 1 : head.length;
				out.push({text: head.toString('utf8', 0, end), truncated: line.length - head.length});
				start = nl + 1;
			}

			return out;
		};

		let seed = 7;
		const random = (n: number): number => {
			seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
			return seed % n;
		};

		const pieces = ['a', 'INFO x=1 ', '\n', '\r\n', '\r', 'é', '日本', '\t', '\u001B[31m', 'x'.repeat(40)];
		for (let round = 0; round < 300; round++) {
			const max = 16 + random(48);
			let text = '';
			// Some inputs long enough for the splitter to decode ASCII in several pieces per chunk.
			const big = round % 10 === 1;
			while (text.length < (big ? 20_000 : 400)) {
				text += pieces[random(round % 3 === 0 ? pieces.length : 5)]!;
			}

			const input = Buffer.from(text + '\n');
			const s = new LineSplitter(max);
			const got: SplitLine[] = [];
			for (let at = 0; at < input.length;) {
				const size = 1 + random(big ? 12_000 : random(4) === 0 ? 200 : 12);
				got.push(...s.push(input.subarray(at, at + size)));
				at += size;
			}

			expect(got, text).toEqual(expected(input, max));
		}
	});

	it('keeps the last line without a newline at the end, and drops CR of CRLF', () => {
		const s = new LineSplitter();
		expect(s.push(Buffer.from('a\r\nb')).map(l => l.text)).toEqual(['a']);
		expect(s.end().map(l => l.text)).toEqual(['b']);
	});
});
