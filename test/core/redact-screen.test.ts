import {execFileSync} from 'node:child_process';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {type EventInit} from '../../source/core/event.js';
import {type RedactSpec, builtinRules, compileRedaction} from '../../source/core/redact.js';
import {cardMarkSource} from '../../source/core/redact-cards.js';
import {RedactScreen, markStrings} from '../../source/core/redact-screen.js';
import {eventFromLine} from '../../source/core/record.js';
import {corpusLines as loghubLines} from '../../bench/support/measure.js';
import {corpusLines} from '../support/redact-corpus.js';
import {root} from '../support/logmon.js';

// The redaction screen in WebAssembly (core/redact-screen.ts, wasm/redact-screen.ts): for every
// text it must answer what the marks' own regexes answer (it stands in for them), on real logs,
// on the redaction corpus and on made-up texts built to trip it (marks cut short, digit runs of
// every length, non-ASCII characters whose low byte is a digit, newlines, texts past its memory,
// batches past its table of texts); and the events it clears must come out of the stage exactly as
// the rules alone leave them.

function spec(fields: Partial<RedactSpec> = {}): RedactSpec {
	return {enable: [], disable: [], rules: [], fields: [], mode: 'mask', ...fields};
}

const defaults = builtinRules.filter(r => r.onByDefault && !('scan' in r));

/**
 * What the screen must say of a text: 1 where a mark's regex matches (for a rule with a
 * separatorWithin, with `=` or `:` in the text's UTF-8 bytes at most that many past the mark's end)
 * or the card mark does.
 */
function expected(text: string, cards = true): number {
	for (const r of defaults) {
		const marks = new RegExp(('marks' in r ? r.marks : []).join('|'), 'g');
		for (let m = marks.exec(text); m !== null; marks.lastIndex = m.index + 1, m = marks.exec(text)) {
			const within = 'separatorWithin' in r ? r.separatorWithin : undefined;
			const after = Buffer.from(text.slice(m.index + m[0].length)).subarray(0, (within ?? 0) + 1);
			if (within === undefined || after.includes(0x3D) || after.includes(0x3A)) {
				return 1;
			}
		}
	}

	return cards && new RegExp(cardMarkSource).test(text) ? 1 : 0;
}

function screen(cards = true): RedactScreen {
	const marks = defaults.flatMap(r => ('marks' in r ? r.marks : []).flatMap(m => markStrings(m)!.map(text => ({text, within: 'separatorWithin' in r ? r.separatorWithin ?? 0 : 0}))));
	return new RedactScreen(marks.map(m => m.text), cards, marks.map(m => m.within));
}

/** The screen's flags for texts, and its count of them checked against their sum. */
function flagsOf(s: RedactScreen, texts: readonly string[]): Uint8Array {
	const flags = new Uint8Array(texts.length + 3).fill(1);
	const flagged = s.screen(texts, flags);
	expect(flagged).toBe(flags.subarray(0, texts.length).reduce((a, b) => a + b, 0));
	return flags.subarray(0, texts.length);
}

/** A small seeded generator: the same texts every run. */
function random(seed: number): () => number {
	let s = seed;
	return () => {
		s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
		return s / 0x1_00_00_00_00;
	};
}

const pieces = [
	'AKIA', 'AKI', 'ASIA', 'A3T', 'key', 'kEy', 'ke', 'KEY', 'Bearer', 'Bea', 'BEGIN', 'BEGI', 'yJ', 'y', 'J', '//', '/', 'zation', 'zatio',
	'ghp_', 'gh', 'github_pat_', 'github_pa', 'glpat-', 'glpat', 'xoxb-', 'xox', 'xapp-', 'ks.slack.com/', 'ks.slack.com', 'pass', 'pas', 'PWD', 'pw',
	' ', ' ', '-', '-', '.', ':', '=', 'a', 'Z', '                ', 'word', 'phrase', '"', '\\', '\n', '\r', '\t', '\u0000', 'é', '\u0131', '\u0133', '\u0663', '漢', '😀', '\uD800', ' …[truncated 12 bytes]',
];

function madeUp(next: () => number, count: number): string[] {
	const texts: string[] = [];
	for (let t = 0; t < count; t++) {
		let text = '';
		const parts = Math.floor(next() * 40);
		for (let p = 0; p < parts; p++) {
			if (next() < 0.4) {
				// A run of digits, often with single separators, first digit anything.
				const length = 1 + Math.floor(next() * 20);
				for (let d = 0; d < length; d++) {
					text += String(Math.floor(next() * 10));
					if (next() < 0.15) {
						text += next() < 0.5 ? ' ' : '-';
					}
				}
			} else {
				text += pieces[Math.floor(next() * pieces.length)]!;
			}
		}

		texts.push(text);
	}

	return texts;
}

describe('the redaction screen', () => {
	it('is what wasm/redact-screen.ts compiles to', () => {
		execFileSync(process.execPath, [path.join(root, 'scripts', 'build-wasm.mjs'), '--check'], {stdio: 'pipe', timeout: 120_000});
	}, 150_000);

	it('reads the built-in marks as the strings they match', () => {
		expect(markStrings('k[Ee][Yy]')?.sort()).toEqual(['kEY', 'kEy', 'keY', 'key']);
		expect(markStrings(String.raw`x(?:ox[ab]|app)-|ks\.slack\.com\/`)).toEqual(['xoxa-', 'xoxb-', 'xapp-', 'ks.slack.com/']);
		for (const refused of ['a+b', 'a.b', String.raw`\d\d`, '[a-z]x', '(ab)', 'a?', 'x', 'x[é]', 'é']) {
			expect(markStrings(refused)).toBeUndefined();
		}

		for (const r of defaults) {
			for (const mark of 'marks' in r ? r.marks : []) {
				const strings = markStrings(mark)!;
				expect(strings.length).toBeGreaterThan(0);
				const whole = new RegExp(`^(?:${mark})$`);
				expect(strings.every(s => whole.test(s))).toBe(true);
			}
		}
	});

	it('flags exactly the texts the marks\' regexes find something in: real logs and the redaction corpus', () => {
		const s = screen();
		const texts = [...loghubLines(), ...corpusLines()];
		const flags = flagsOf(s, texts);
		const wrong = texts.filter((t, k) => flags[k] !== expected(t));
		expect(wrong).toEqual([]);
		expect(flags.reduce((a, b) => a + b, 0)).toBeGreaterThan(100);
	});

	it('flags exactly those texts among made-up ones built to trip it, with the card rule and without', () => {
		const next = random(7);
		for (let round = 0; round < 30; round++) {
			const cards = round % 3 !== 2;
			const s = screen(cards);
			const texts = madeUp(next, 1 + Math.floor(next() * (round % 5 === 0 ? 6000 : 600)));
			const flags = flagsOf(s, texts);
			const wrong = texts.filter((t, k) => flags[k] !== expected(t, cards)).map(t => JSON.stringify(t));
			expect(wrong).toEqual([]);
		}
	});

	it('flags a text too long for its memory, and screens the texts around it', () => {
		const s = screen();
		const long = 'plain words '.repeat(200_000); // 2.4 million characters
		const texts = ['token key=1', 'plain', long, 'plain again', 'Bearer abc', long.slice(0, 1_000_000)];
		expect([...flagsOf(s, texts)]).toEqual([1, 0, 1, 0, 1, 0]);
		expect([...flagsOf(s, [long])]).toEqual([1]);
		expect([...flagsOf(s, [])]).toEqual([]);
	});

	it('reads its flags before any event of the batch is redacted: one event met twice moves no flag onto another', () => {
		const redactor = compileRedaction(spec());
		// Redacting e makes its raw line its message: its texts counted again would move g's flag.
		const e: EventInit = {...eventFromLine('password=aaa', {sourceId: 'f', sourceKind: 'file', service: 'app', receivedAt: 0}), raw: 'password=bbb'};
		const f = eventFromLine('plain', {sourceId: 'f', sourceKind: 'file', service: 'app', receivedAt: 0});
		const g = eventFromLine('token AKIAABCDEFGHIJKLMNOP', {sourceId: 'f', sourceKind: 'file', service: 'app', receivedAt: 0});
		redactor.redactBatch([e, e, f, g]);
		expect(g.message).toBe('token [REDACTED:aws-key]');
		expect(e.raw).toBe('password=[REDACTED:password]');
	});

	it('leaves the events it clears exactly as the rules alone would, and counts the same hits', () => {
		const lines = [...loghubLines(), ...corpusLines(), ...madeUp(random(11), 3000)];
		const event = (text: string): EventInit => eventFromLine(text, {sourceId: 'f', sourceKind: 'file', service: 'app', receivedAt: 0});
		for (const redact of [spec(), spec({disable: ['card']}), spec({mode: 'hash'})]) {
			const screened = compileRedaction(redact, v => `h${v.length}`);
			const alone = compileRedaction(redact, v => `h${v.length}`);
			const batch = lines.map(t => event(t));
			const one = lines.map(t => event(t));
			for (let k = 0; k < batch.length; k += 997) {
				screened.redactBatch(batch.slice(k, k + 997));
			}

			for (const e of one) {
				alone.redactEvent(e);
			}

			expect(batch.map(e => [e.message, e.raw, JSON.stringify(e.record ?? null)])).toEqual(one.map(e => [e.message, e.raw, JSON.stringify(e.record ?? null)]));
			expect(screened.health()).toEqual(alone.health());
		}
	});
});
