import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {type Level, type LogEvent} from '../../source/core/event.js';
import {openHistory} from '../../source/history/open.js';
import {corpus} from './logmon.js';

// A history on disk for the UI tests, written by the store's own writer: fixture lines of
// test/fixtures/loghub, each with a counter (`#123 …`), received evenly over a span that ends
// a little before now.

export type FixtureHistory = {
	events: LogEvent[];
	/** Counters of the ERROR events. */
	errors: number;
};

/** Lines of every loghub fixture, with the file's name as the service. */
function fixtureLines(): Array<{service: string; line: string}> {
	const out: Array<{service: string; line: string}> = [];
	for (const file of readdirSync(corpus).filter(f => f.endsWith('.log')).sort()) {
		const service = file.replace(/_2k\.log$/, '').toLowerCase();
		for (const line of readFileSync(path.join(corpus, file), 'utf8').split('\n')) {
			if (line.trim()) {
				out.push({service, line});
			}
		}
	}

	return out;
}

export type FixtureOptions = {
	count: number;
	/** The newest event is received this long before `now`. */
	endsAgoMs?: number;
	/** Events are spread over this much time. */
	spanMs?: number;
	now?: number;
	/** Counter → a word put in that event's message only. */
	words?: Map<number, string>;
};

/** Events #1 (oldest) to #count, fixture lines with their counter, every `error` line an ERROR. */
export function fixtureEvents(options: FixtureOptions): FixtureHistory {
	const lines = fixtureLines();
	const now = options.now ?? Date.now();
	const span = options.spanMs ?? 3 * 86_400_000 - 3_600_000;
	const end = now - (options.endsAgoMs ?? 60_000);
	const events: LogEvent[] = [];
	let errors = 0;
	for (let i = 1; i <= options.count; i++) {
		const {service, line} = lines[(i - 1) % lines.length]!;
		const level: Level = /\berror\b/i.test(line) ? 'ERROR' : 'INFO';
		errors += level === 'ERROR' ? 1 : 0;
		const word = options.words?.get(i);
		const message = `#${i} ${word ? `${word} ` : ''}${line}`;
		const at = Math.round(end - span + (span * (i - 1)) / Math.max(1, options.count - 1));
		events.push({seq: i, time: at, receivedAt: at, sourceId: 'old-run', sourceKind: 'logio', service, host: 'node-1', proc: '', type: '', level, message, raw: message});
	}

	return {events, errors};
}

/** Write `events` into a history directory with the store's writer, as an earlier logmon run would have. */
export async function writeHistory(dir: string, events: readonly LogEvent[]): Promise<void> {
	const history = await openHistory(dir, {writer: {flushMs: 3_600_000, maintenanceMs: 3_600_000}});
	const writer = history.writer!;
	for (let i = 0; i < events.length; i += 10_000) {
		writer.append(events.slice(i, i + 10_000));
		// eslint-disable-next-line no-await-in-loop
		await writer.flush();
	}

	await writer.settle();
	await history.close();
}
