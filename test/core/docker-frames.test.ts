import {describe, expect, test} from 'vitest';
import {type DockerLine, FrameDemuxer, RawLines, partialBytes} from '../../source/core/docker-frames.js';
import {SeenLines, sinceFromMs, sinceParameter, stampKey} from '../../source/core/docker-resume.js';
import {containerService, skipReason, type Container} from '../../source/core/docker-select.js';

// The pure halves of the Docker source: frames and raw streams to lines, resuming without
// repeats, and which containers are followed. The byte layouts are the ones a real engine
// sends (checked against Debian's dockerd 20.10): see docker-engine.test.ts for the real thing.

const stamp = '2026-12-02T08:13:41.534961788Z';

function frame(stream: number, payload: string | Buffer): Buffer {
	const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
	const header = Buffer.alloc(8);
	header[0] = stream;
	header.writeUInt32BE(body.length, 4);
	return Buffer.concat([header, body]);
}

/** A line as Docker sends it with timestamps: partial messages of 16 KiB each carrying the line's time. */
function messages(text: string, at = stamp, eol = '\n'): Buffer[] {
	const bytes = Buffer.from(text);
	const out: Buffer[] = [];
	let i = 0;
	for (; bytes.length - i > partialBytes; i += partialBytes) {
		out.push(Buffer.concat([Buffer.from(`${at} `), bytes.subarray(i, i + partialBytes)]));
	}

	out.push(Buffer.concat([Buffer.from(`${at} `), bytes.subarray(i), Buffer.from(eol)]));
	return out;
}

function feed(reader: {push(b: Buffer): DockerLine[]; end(): DockerLine[]}, bytes: Buffer, cuts: number[]): DockerLine[] {
	const out: DockerLine[] = [];
	let at = 0;
	for (const cut of cuts) {
		out.push(...reader.push(bytes.subarray(at, cut)));
		at = cut;
	}

	out.push(...reader.push(bytes.subarray(at)), ...reader.end());
	return out;
}

describe('FrameDemuxer', () => {
	const long = `${'é'.repeat(10_000)}${'x'.repeat(20_000)}`;
	const stream = Buffer.concat([
		frame(1, `${stamp} out one\n`),
		frame(2, `${stamp} err ✓ one\n`),
		...messages(long).map(m => frame(1, m)),
		frame(2, '2026-12-02T08:13:41.6Z err two\n'),
		frame(1, `${stamp} out two\n`),
	]);
	const expected = [
		{stream: 'stdout', text: 'out one', stamp, truncated: 0},
		{stream: 'stderr', text: 'err ✓ one', stamp, truncated: 0},
		{stream: 'stderr', text: 'err two', stamp: '2026-12-02T08:13:41.6Z', truncated: 0},
		{stream: 'stdout', text: long, stamp, truncated: 0},
		{stream: 'stdout', text: 'out two', stamp, truncated: 0},
	];

	test('whole, and cut at every single position (headers, timestamps, UTF-8 and partial messages alike)', () => {
		const sorted = (lines: DockerLine[]): DockerLine[] => [...lines.filter(l => l.stream === 'stderr'), ...lines.filter(l => l.stream === 'stdout')];
		const want = sorted(expected as DockerLine[]);
		expect(sorted(feed(new FrameDemuxer({maxLine: 1 << 20, timestamps: true}), stream, []))).toEqual(want);
		for (let cut = 1; cut < 200; cut++) {
			expect(sorted(feed(new FrameDemuxer({maxLine: 1 << 20, timestamps: true}), stream, [cut]))).toEqual(want);
		}

		for (let cut = partialBytes - 40; cut < partialBytes + 120; cut++) {
			expect(sorted(feed(new FrameDemuxer({maxLine: 1 << 20, timestamps: true}), stream, [cut, cut + 7, cut + partialBytes]))).toEqual(want);
		}

		const bytes: number[] = Array.from({length: 400}, (_, i) => i + 1);
		expect(sorted(feed(new FrameDemuxer({maxLine: 1 << 20, timestamps: true}), stream, bytes))).toEqual(want);
	});

	test('a line over the cap is cut and counted; frames of an unknown stream are skipped and counted', () => {
		const demuxer = new FrameDemuxer({maxLine: 1024, timestamps: true});
		const lines = feed(demuxer, Buffer.concat([frame(1, `${stamp} ${'y'.repeat(5000)}\n`), frame(0, 'stdin?'), frame(3, 'nope'), frame(2, `${stamp} ok\n`)]), [3, 11]);
		expect(demuxer.badFrames).toBe(2);
		expect(lines.map(l => [l.stream, l.text.length, l.truncated])).toEqual([['stdout', 1024, 5000 - 1024], ['stderr', 2, 0]]);
	});

	test('--max-line holds for the text, not the text and its stamp: a few bytes over are cut too, never inside a character', () => {
		const lines = feed(new FrameDemuxer({maxLine: 1024, timestamps: true}), Buffer.concat([
			frame(1, `${stamp} ${'z'.repeat(1024 + 5)}\n`),
			frame(1, `${stamp} ${'✓'.repeat(400)}\n`),
			frame(1, `${stamp} ${'w'.repeat(1024)}\n`),
		]), []);
		expect(lines.map(l => [Buffer.byteLength(l.text), l.truncated, l.stamp])).toEqual([[1024, 5, stamp], [1023, 1200 - 1023, stamp], [1024, 0, stamp]]);
		expect(lines[1]!.text).toBe('✓'.repeat(341));
		const raw = feed(new RawLines({maxLine: 1024, timestamps: true}), Buffer.from(`${stamp} ${'r'.repeat(1030)}\n`), []);
		expect(raw.map(l => [l.text.length, l.truncated])).toEqual([[1024, 6]]);
	});

	test('without timestamps, and a line without a newline at the end of the stream', () => {
		const lines = feed(new FrameDemuxer({maxLine: 1 << 20, timestamps: false}), Buffer.concat([frame(1, 'plain\n'), frame(2, 'no newline')]), [5]);
		expect(lines).toEqual([{stream: 'stdout', text: 'plain', stamp: '', truncated: 0}, {stream: 'stderr', text: 'no newline', stamp: '', truncated: 0}]);
	});
});

describe('RawLines (TTY)', () => {
	const long = 'b'.repeat(40_000);
	const raw = Buffer.concat([
		...messages('tty one', stamp, '\r\n'),
		...messages(long, stamp, '\r\n'),
		...messages('日本語 ✓', '2026-12-02T08:13:42.000000001Z', '\r\n'),
	]);
	const want = [
		{stream: 'stdout', text: 'tty one', stamp, truncated: 0},
		{stream: 'stdout', text: long, stamp, truncated: 0},
		{stream: 'stdout', text: '日本語 ✓', stamp: '2026-12-02T08:13:42.000000001Z', truncated: 0},
	];

	test('CR LF lines and 16 KiB partial messages joined, cut anywhere', () => {
		expect(feed(new RawLines({maxLine: 1 << 20, timestamps: true}), raw, [])).toEqual(want);
		const boundary = Buffer.byteLength(`${stamp} tty one\r\n${stamp} `) + partialBytes;
		for (let cut = boundary - 5; cut < boundary + 40; cut++) {
			expect(feed(new RawLines({maxLine: 1 << 20, timestamps: true}), raw, [cut])).toEqual(want);
		}

		for (let cut = 1; cut < 60; cut++) {
			expect(feed(new RawLines({maxLine: 1 << 20, timestamps: true}), raw, [cut, cut + 1, cut + 2])).toEqual(want);
		}
	});

	test('a line that looks like it holds a timestamp keeps it', () => {
		const text = `logged at ${stamp} fine`;
		expect(feed(new RawLines({maxLine: 1 << 20, timestamps: true}), Buffer.concat(messages(text, stamp, '\r\n')), [])[0]!.text).toBe(text);
	});
});

describe('resume', () => {
	test('stamp keys sort as times do, and become Docker\'s since in Unix seconds', () => {
		expect(stampKey('2026-12-02T08:13:41.5Z')).toBe('2026-12-02T08:13:41.500000000');
		expect(stampKey('2026-12-02T09:13:41.000000001+01:00')).toBe('2026-12-02T08:13:41.000000001');
		expect(stampKey('nonsense')).toBeUndefined();
		expect(sinceParameter('2026-12-02T08:13:41.500000000')).toBe(`${Date.parse('2026-12-02T08:13:41Z') / 1000}.500000000`);
		expect(sinceFromMs(1_700_000_000_123)).toBe('1700000000.123000000');
	});

	const at = (n: number): string => `2026-12-02T08:00:00.${String(n).padStart(9, '0')}Z`;

	test('lines met again after a resume are dropped once each, in order, until a newer one; one the window forgot too', () => {
		const seen = new SeenLines(4);
		seen.add(at(1), 'stdout', 5); // forgotten by the window of 4: its stream's newest time still covers it
		seen.add(at(2), 'stdout', 5);
		seen.add(at(3), 'stdout', 5);
		seen.add(at(3), 'stdout', 5);
		seen.add(at(1), 'stderr', 5);
		expect(seen.startResume()).toBe(`${Date.parse('2026-12-02T08:00:00Z') / 1000}.000000001`);
		const again: Array<[string, string]> = [
			[at(1), 'stdout'],
			[at(1), 'stderr'],
			[at(2), 'stdout'],
			[at(3), 'stdout'],
			[at(3), 'stdout'],
			[at(3), 'stdout'], // a third line at that time: new
			[at(4), 'stdout'],
		];
		expect(again.map(([s, stream]) => seen.isRepeat(s, stream, 5))).toEqual([true, true, true, true, true, false, false]);
		expect(seen.repeats).toBe(5);
		expect(seen.newestKey()).toBe('2026-12-02T08:00:00.000000003');
		expect(new SeenLines().startResume()).toBeUndefined();
		expect(new SeenLines().newestKey()).toBeUndefined();
	});

	test('stdout and stderr in blocks whose times overlap by more than the window: each line once, none lost', () => {
		// A burst: stderr's copier fell behind; stdout ran ahead past the window of 4.
		const seen = new SeenLines(4);
		const shown: Array<[number, string]> = [[5, 'stderr'], [10, 'stdout'], [11, 'stdout'], [12, 'stdout'], [13, 'stdout'], [14, 'stdout'], [15, 'stdout']];
		for (const [n, stream] of shown) {
			seen.add(at(n), stream, 5);
		}

		// Asked from stderr's newest (5), not the window's oldest (12): its line stamped 8, written
		// after the stream ended, comes again. Docker sends everything from then, in the file's order.
		expect(seen.startResume()).toBe(`${Date.parse('2026-12-02T08:00:00Z') / 1000}.000000005`);
		const again: Array<[number, string]> = [...shown, [8, 'stderr'], [16, 'stdout'], [17, 'stdout']];
		expect(again.map(([n, stream]) => seen.isRepeat(at(n), stream, 5))).toEqual([...shown.map(() => true), false, false, false]);
		expect(seen.repeats).toBe(shown.length);
	});

	test('the first part of a long line, shown when the stream ended in its middle, does not hide the whole line', () => {
		const seen = new SeenLines();
		seen.add(at(1), 'stdout', 10);
		seen.add(at(2), 'stdout', 16_384); // the stream ended after the first 16 KiB frame
		seen.startResume();
		expect([seen.isRepeat(at(1), 'stdout', 10), seen.isRepeat(at(2), 'stdout', 16_387), seen.isRepeat(at(3), 'stdout', 4)]).toEqual([true, false, false]);
	});
});

describe('which containers', () => {
	const base: Container = {id: 'c'.repeat(64), name: 'web-1', image: 'registry.example/shop/nginx:1.27', labels: {tier: 'front'}, env: ['PATH=/bin'], tty: false, running: true};
	const selection = {excludeLabel: 'logspout.exclude'};

	test('LOGSPOUT=ignore and the exclude label skip, like logspout', () => {
		expect(skipReason(base, selection)).toBeUndefined();
		expect(skipReason({...base, env: ['LOGSPOUT=ignore']}, selection)).toBe('LOGSPOUT=ignore in its environment');
		expect(skipReason({...base, labels: {'logspout.exclude': 'True'}}, selection)).toBe('the label logspout.exclude');
		expect(skipReason({...base, labels: {'logspout.exclude': 'false'}}, selection)).toBeUndefined();
		expect(skipReason({...base, labels: {team: 'ops'}}, {excludeLabel: 'team:ops'})).toBe('the label team:ops');
	});

	test('include and exclude by name, label and image', () => {
		const none = {names: [], labels: [], images: []};
		expect(skipReason(base, {...selection, include: {...none, names: ['web-*']}})).toBeUndefined();
		expect(skipReason(base, {...selection, include: {...none, names: ['db']}})).toBe('not in docker.include');
		expect(skipReason(base, {...selection, include: {...none, labels: ['tier=front']}})).toBeUndefined();
		expect(skipReason(base, {...selection, include: {...none, labels: ['tier=back']}})).toBe('not in docker.include');
		expect(skipReason(base, {...selection, include: {...none, images: ['nginx']}})).toBeUndefined();
		expect(skipReason(base, {...selection, include: {...none, images: ['nginx:1.26']}})).toBe('not in docker.include');
		expect(skipReason(base, {...selection, exclude: {...none, images: ['shop/nginx']}})).toBe('in docker.exclude');
		expect(skipReason(base, {...selection, exclude: {...none, labels: ['tier']}})).toBe('in docker.exclude');
	});

	test('service: the compose service, else the name', () => {
		expect(containerService(base)).toBe('web-1');
		expect(containerService({...base, labels: {'com.docker.compose.service': 'web'}})).toBe('web');
	});
});
