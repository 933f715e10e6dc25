import {describe, expect, it} from 'vitest';
import {Bus} from '../../source/core/bus.js';
import {type EventInit, type LogEvent} from '../../source/core/event.js';
import {eventFromLine} from '../../source/core/record.js';
import {type RedactSpec, compileRedaction} from '../../source/core/redact.js';
import {type RedactScreen} from '../../source/core/redact-queue.js';
import {corpusLines} from '../support/redact-corpus.js';

// The bus with a redaction screen (core/redact-queue.ts). The screen here is a second redactor of
// the same spec answering on a later turn of the event loop, as the worker thread of
// redact-thread.ts does; the e2e test (test/e2e/redact-thread.test.ts) runs the worker itself.

const spec: RedactSpec = {
	enable: [],
	disable: [],
	rules: [
		{name: 'order-token', pattern: 'tok_[a-z0-9]{24}', from: '--redact-rule'},
		{name: 'ssn', pattern: String.raw`\b\d{3}-\d{2}-\d{4}\b`, from: '--redact-rule'},
		{name: 'session', pattern: '(?i)session(?:_id)?=([A-Za-z0-9]{16,})', from: '--redact-rule'},
	],
	fields: ['user.email'],
	mode: 'mask',
};

/** A screen made of a second redactor; `answer` decides when (and whether) each batch is answered. */
class SecondRedactor implements RedactScreen {
	ready = true;
	readonly redactor = compileRedaction(spec);
	batches = 0;
	texts = 0;
	constructor(private readonly later: (answer: () => void) => void = answer => setImmediate(answer), private readonly fails = false) {}

	screen(texts: string[], answer: (flags: Uint8Array | undefined) => void): void {
		this.batches++;
		this.texts += texts.length;
		const flags = Uint8Array.from(texts, t => (this.redactor.mayChange(t) ? 1 : 0));
		this.later(() => {
			answer(this.fails ? undefined : flags);
		});
	}

	close(): void {/* nothing held */}
}

/** The corpus with plain lines between, a private key printed line by line, and JSON records. */
function lines(): string[] {
	const out: string[] = [];
	for (const [i, line] of corpusLines().entries()) {
		out.push(line, `GET /index.html 200 ${i}`, `paid with tok_${'a1'.repeat(12)} by ssn 123-45-6789`);
	}

	out.push('-----BEGIN RSA PRIVATE KEY-----', 'MIIEpAIBAAKCAQEA1234567890abcdef', 'MIIEpAIBAAKCAQEA0987654321fedcba', '-----END RSA PRIVATE KEY-----', 'after the key');
	out.push('{"msg":"login","user":{"email":"ann@example.com"},"session_id":"AbCdEfGhIjKlMnOpQr"}', 'plain again');
	return out;
}

function batches(source: string, size: number): EventInit[][] {
	const all = lines().map((line, i) => eventFromLine(line, {sourceId: source, sourceKind: 'stdin', service: 'svc', receivedAt: 1000 + i}));
	const out: EventInit[][] = [];
	for (let i = 0; i < all.length; i += size) {
		out.push(all.slice(i, i + size));
	}

	return out;
}

type Seen = Pick<LogEvent, 'seq' | 'message' | 'raw' | 'record' | 'sourceId'>;

function run(screen: RedactScreen | undefined, size = 7): {bus: Bus; seen: Seen[]} {
	const bus = new Bus();
	bus.redactor = compileRedaction(spec);
	if (screen) {
		bus.screenRedaction(screen);
	}

	const seen: Seen[] = [];
	bus.subscribe(batch => {
		seen.push(...batch.map(e => ({seq: e.seq, message: e.message, raw: e.raw, record: e.record, sourceId: e.sourceId})));
	});
	const a = bus.addSource('a', 'stdin');
	const b = bus.addSource('b', 'logio-listen');
	const [ba, bb] = [batches('a', size), batches('b', size + 4)];
	for (let i = 0; i < Math.max(ba.length, bb.length); i++) {
		if (ba[i]) {
			a.publish(ba[i]!);
		}

		if (i === 3) {
			b.gap(1, 2);
		}

		if (bb[i]) {
			b.publish(bb[i]!);
		}
	}

	return {bus, seen};
}

describe('the bus with a redaction screen', () => {
	it('delivers, in publish order, exactly what redaction in one thread gives, with the same counts', async () => {
		const alone = run(undefined);
		const screen = new SecondRedactor();
		const screened = run(screen);
		expect(screened.seen.length).toBeLessThan(alone.seen.length); // still waiting for the screen
		await screened.bus.settled();
		expect(screened.seen).toEqual(alone.seen);
		expect(screened.bus.redactor!.health()).toEqual(alone.bus.redactor!.health());
		expect(screen.batches).toBeGreaterThan(30);
		// The screen's work is the point: most events are left as they are by the bus's redactor.
		const text = screened.seen.map(e => e.raw).join('\n');
		expect(text).not.toContain('123-45-6789');
		expect(text).not.toContain('MIIEpAIBAAKCAQEA0987654321fedcba');
		expect(text).not.toContain('ann@example.com');
		expect(text).toContain('GET /index.html 200 0');
	});

	it('answers in any order: each batch still waits for every one before it', async () => {
		const held: Array<() => void> = [];
		const screen = new SecondRedactor(answer => held.push(answer));
		const {bus, seen} = run(screen, 50);
		expect(seen).toHaveLength(0);
		for (const answer of held.splice(0).reverse()) {
			answer();
		}

		await bus.settled();
		expect(seen).toEqual(run(undefined, 50).seen);
	});

	it('a screen that cannot answer leaves every event to the bus redactor: nothing passes unredacted', async () => {
		const {bus, seen} = run(new SecondRedactor(undefined, true));
		await bus.settled();
		expect(seen).toEqual(run(undefined).seen);
	});

	it('while the screen starts, batches are redacted at once; once it is ready, they wait for it', async () => {
		const screen = new SecondRedactor();
		screen.ready = false;
		const {bus, seen} = run(screen);
		const alone = run(undefined).seen;
		expect(screen.batches).toBe(0);
		expect(seen).toEqual(alone);
		screen.ready = true;
		const source = bus.addSource('c', 'stdin');
		source.publish([eventFromLine('ssn 123-45-6789', {sourceId: 'c', sourceKind: 'stdin', service: 's', receivedAt: 1})]);
		expect(seen).toHaveLength(alone.length);
		await bus.settled();
		expect(screen.batches).toBe(1);
		expect(seen.at(-1)!.message).toBe('ssn [REDACTED:ssn]');
	});

	it('where most texts come back flagged, batches skip the screen but one in 16, and it is used again once they do not', async () => {
		const screen = new SecondRedactor();
		const bus = new Bus();
		bus.redactor = compileRedaction(spec);
		bus.screenRedaction(screen);
		const out: string[] = [];
		bus.subscribe(batch => out.push(...batch.map(e => e.message)));
		const source = bus.addSource('d', 'stdin');
		const publish = async (text: (i: number) => string) => {
			for (let i = 0; i < 100; i++) {
				source.publish(Array.from({length: 10}, (_, k) => eventFromLine(text((i * 10) + k), {sourceId: 'd', sourceKind: 'stdin', service: 's', receivedAt: 1})));
				await new Promise(resolve => setImmediate(resolve)); // eslint-disable-line no-await-in-loop
			}
		};

		await publish(i => `d ${i} ssn 123-45-6789`);
		const dense = screen.batches;
		expect(dense).toBeLessThan(20);
		await publish(i => `p ${i} plain`);
		expect(screen.batches - dense).toBeGreaterThan(60);
		await bus.settled();
		expect(out).toHaveLength(2000);
		expect(out[999]).toBe('d 999 ssn [REDACTED:ssn]');
		expect(out.filter(m => m.includes('123-45-6789'))).toHaveLength(0);
	});

	it('pauses the sources that can pause while many events wait, and resumes them once answered', async () => {
		const held: Array<() => void> = [];
		const bus = new Bus();
		bus.redactor = compileRedaction(spec);
		bus.screenRedaction(new SecondRedactor(answer => held.push(answer)));
		const calls: string[] = [];
		const source = bus.addSource('k', 'kafka', {pause: () => calls.push('pause'), resume: () => calls.push('resume')});
		const one = (i: number): EventInit => eventFromLine(`line ${i} session=AbCdEfGhIjKlMnOpQrSt`, {sourceId: 'k', sourceKind: 'kafka', service: 's', receivedAt: i});
		for (let i = 0; i < 30; i++) {
			source.publish(Array.from({length: 1000}, (_, k) => one((i * 1000) + k)));
		}

		expect(calls).toEqual(['pause']);
		expect(source.health.paused).toBe(true);
		for (const answer of held.splice(0)) {
			answer();
		}

		await bus.settled();
		expect(calls).toEqual(['pause', 'resume']);
		expect(source.health.events).toBe(30_000);
	});

	it('counts text as well as events: a few long lines pause the sources, and past 64 Mi units what waits goes at once', async () => {
		const held: Array<() => void> = [];
		const bus = new Bus();
		bus.redactor = compileRedaction(spec);
		bus.screenRedaction(new SecondRedactor(answer => held.push(answer)));
		const out: string[] = [];
		bus.subscribe(batch => out.push(...batch.map(e => e.message)));
		const calls: string[] = [];
		const source = bus.addSource('k', 'kafka', {pause: () => calls.push('pause'), resume: () => calls.push('resume')});
		const mib = 'x'.repeat(1024 * 1024);
		for (let i = 0; i < 34; i++) {
			source.publish([eventFromLine(`${i} ssn 123-45-6789 ${mib}`, {sourceId: 'k', sourceKind: 'kafka', service: 's', receivedAt: i})]);
			if (i === 30) {
				expect(calls).toEqual([]); // 31 lines of 1 MiB, under 32 Mi units
			}
		}

		expect(calls).toEqual(['pause']);
		expect(out).toHaveLength(0);
		for (let i = 34; i < 64; i++) {
			source.publish([eventFromLine(`${i} ssn 123-45-6789 ${mib}`, {sourceId: 'k', sourceKind: 'kafka', service: 's', receivedAt: i})]);
		}

		expect(out).toHaveLength(64); // past 64 Mi units: redacted here and delivered, not held
		expect(calls).toEqual(['pause', 'resume']);
		expect(out.every((m, i) => m.startsWith(`${i} ssn [REDACTED:ssn] x`))).toBe(true);
		for (const answer of held.splice(0)) {
			answer();
		}

		await bus.settled();
		expect(out).toHaveLength(64);
	});

	it('past its bound, everything waiting is redacted at once in this thread, in order, a key block across batches too', async () => {
		const held: Array<() => void> = [];
		const screen = new SecondRedactor(answer => held.push(answer));
		const bus = new Bus();
		bus.redactor = compileRedaction(spec);
		bus.screenRedaction(screen);
		const out: string[] = [];
		bus.subscribe(batch => out.push(...batch.map(e => e.message)));
		const source = bus.addSource('net', 'logio-listen');
		const line = (text: string): EventInit => eventFromLine(text, {sourceId: 'net', sourceKind: 'logio-listen', service: 's', receivedAt: 1});
		for (let i = 0; i < 80; i++) {
			const batch = Array.from({length: 1000}, (_, k) => line(`n ${(i * 1000) + k} ssn 123-45-6789`));
			if (i === 49) {
				batch[999] = line('-----BEGIN RSA PRIVATE KEY-----'); // its body comes in the batch past the bound
			} else if (i === 50) {
				batch[0] = line('MIIEpAIBAAKCAQEA1234567890abcdef');
			}

			source.publish(batch);
			if (i === 49) {
				expect(out).toHaveLength(0); // 50,000 wait for the screen
			} else if (i === 50) {
				expect(out).toHaveLength(51_000);
			}
		}

		for (const answer of held.splice(0)) {
			answer(); // the first 50 batches' answers come too late: nothing changes
		}

		await bus.settled();
		expect(out).toHaveLength(80_000);
		expect(out[79_999]).toBe('n 79999 ssn [REDACTED:ssn]');
		expect(out[50_000]).toBe('[REDACTED:private-key]');
		expect(out.filter(m => m.includes('123-45-6789'))).toHaveLength(0);
		expect(out.every((m, i) => m.startsWith(`n ${i} `) || i === 49_999 || i === 50_000)).toBe(true);
		expect(screen.batches).toBe(79);
	});
});
