import {readFileSync} from 'node:fs';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {type KafkaTool} from '../source/sources/kafka.js';
import {brokers, skipKafka, stateHome, tool, unique} from './support/kafka.js';
import {Running} from './support/kafka-logmon.js';
import {run} from './support/logmon.js';

// The Kafka source against a real Apache Kafka broker: a real producer on one side,
// the built logmon's stdout on the other. No mocks.

describe.skipIf(skipKafka())('kafka source', () => {
	let address: string;
	let kafka: KafkaTool;
	const running: Running[] = [];
	const env = {XDG_STATE_HOME: stateHome()};

	const logmon = (args: string[], read = true): Running => {
		const r = new Running(['--kafka', address, ...args], env, read);
		running.push(r);
		return r;
	};

	beforeAll(async () => {
		address = await brokers();
		kafka = tool(address);
	});

	afterAll(async () => {
		await Promise.all(running.map(async r => r.stop('SIGKILL')));
		await kafka?.disconnect();
	});

	test('records from a real producer come out exactly', async () => {
		const topic = unique('logs');
		const errors = `${topic}-errors`;
		await kafka.createTopics([{topic}, {topic: errors}]);
		// Fresh topics, so --from-beginning: a new group at "latest" would race the producer.
		const m = logmon(['--topic', topic, '--topic', errors, '-G', unique('g'), '--from-beginning', '-o', 'json']);
		await m.joined();

		const json = JSON.stringify({timestamp: '2025-01-02T03:04:05.678Z', service: 'api', host: 'web-1', level: 'warning', logger: 'app.db', message: 'slow query', took_ms: 812});
		const big = JSON.stringify({timestamp: '2025-01-02T03:04:06Z', service: 'api', level: 'info', message: 'B'.repeat(900 * 1024)});
		const both = JSON.stringify({timestamp: '2025-01-02T03:04:07.001Z', service: 'billing', host: 'w2', level: 'ERROR', logger: 'pay', message: 'card declined'});
		const bothWithId = JSON.stringify({id: 'rec-42', timestamp: '2025-01-02T03:04:07.500Z', service: 'billing', level: 'CRITICAL', message: 'ledger out of balance'});
		const repeat = JSON.stringify({timestamp: '2025-01-02T03:04:08Z', service: 'api', level: 'info', message: 'same line twice'});
		await kafka.produce(topic, [
			{key: 'k1', value: json, headers: {trace: 'abc123'}},
			{value: 'plain text line ERROR disk full'},
			{value: '{"level": "info", "message": broken'},
			{key: 'gone', value: null},
			{value: ''},
			{value: big},
			{value: both},
			{value: bothWithId},
			{value: repeat},
			{value: repeat},
			// No readable time of its own: the Kafka timestamp stands in.
			{value: JSON.stringify({service: 'api', level: 'info', message: 'no time field'}), timestamp: Date.parse('2025-01-02T03:04:09.250Z')},
			{value: JSON.stringify({time: 'soon', service: 'api', level: 'info', message: 'unreadable time'}), timestamp: Date.parse('2025-01-02T03:04:09.500Z')},
		]);
		await kafka.produce(errors, [{value: both}, {value: bothWithId}, {value: 'the end'}]);
		await kafka.produce(topic, [{value: 'the end'}]);
		// Each topic is one partition, so its own "the end" comes after everything before it.
		await m.until(() => m.lines.filter(l => l.includes('"message":"the end"')).length === 2, 'the last records');

		// Topics interleave; within the main topic the order is the offsets'.
		const events = m.json().filter(e => e['record']['topic'] === topic || e['message'] !== 'the end');
		const short = (s: string): string => s.length > 100 ? `${s.slice(0, 3)}…${s.length}` : s;
		expect(events.map(e => short(e['message'] as string)).sort()).toEqual([
			'slow query',
			'plain text line ERROR disk full',
			'{"level": "info", "message": broken',
			`BBB…${900 * 1024}`,
			'card declined',
			'ledger out of balance',
			'same line twice',
			'same line twice',
			'no time field',
			'unreadable time',
			'the end',
		].sort());

		const main = events.filter(e => e['record']['topic'] === topic);
		expect(main.map(e => e['record']['offset'] as number)).toEqual([...main.map(e => e['record']['offset'] as number)].sort((a, b) => a - b));
		const byMessage = (text: string): Record<string, any> | undefined => events.find(e => e['message'] === text);
		const first = byMessage('slow query');
		const plain = byMessage('plain text line ERROR disk full');
		const malformed = byMessage('{"level": "info", "message": broken');
		const large = events.find(e => (e['message'] as string).startsWith('BBB'));
		const last = main.at(-1);
		expect(first).toMatchObject({kind: 'kafka', service: 'api', host: 'web-1', proc: 'app.db', level: 'WARN', time: '2025-01-02T03:04:05.678Z', raw: json});
		expect(first!['record']).toMatchObject({topic, partition: 0, offset: 0, key: 'k1', headers: {trace: 'abc123'}, value: {took_ms: 812}});
		expect(plain).toMatchObject({service: topic, level: 'ERROR', raw: 'plain text line ERROR disk full'});
		expect(plain!['record']).toMatchObject({topic, partition: 0, offset: 1, key: null});
		expect(malformed).toMatchObject({service: topic, raw: '{"level": "info", "message": broken'});
		expect(large!['raw']).toBe(big);
		expect(large!['record']).toMatchObject({offset: 5});
		expect(last!['record']).toMatchObject({topic, offset: 12});
		expect(byMessage('no time field')).toMatchObject({time: '2025-01-02T03:04:09.250Z'});
		expect(byMessage('unreadable time')).toMatchObject({time: '2025-01-02T03:04:09.500Z'});
		expect(m.stderr).toMatch(/not valid JSON; shown as text/);
		expect(m.stderr).toMatch(/has no value \(tombstone\); skipped/);
		expect(m.stderr).toMatch(/has no value \(empty\); skipped/);

		expect(await m.stop()).toBe(143);
		expect(m.stderr).toMatch(/2 records seen on two topics shown once, 2 tombstones or empty records skipped/);
	});

	test('after a restart the group resumes: nothing lost, redelivered records reported', async () => {
		const topic = unique('resume');
		const group = unique('g');
		await kafka.createTopics([{topic}]);
		const args = ['--topic', topic, '-G', group, '-o', 'raw'];
		const first = logmon([...args, '--from-beginning']);
		await first.joined();
		await kafka.produce(topic, Array.from({length: 20}, (_, i) => ({value: `r${i}`})));
		await first.lineCount(20);
		expect(await first.stop()).toBe(143);

		// While logmon is down: more records, and the commit of r10..r19 "lost", as when
		// logmon dies between handing a batch on and committing it.
		await kafka.produce(topic, Array.from({length: 10}, (_, i) => ({value: `r${20 + i}`})));
		await kafka.setOffsets(group, topic, [{partition: 0, offset: 10}]);

		const second = logmon(args);
		const redelivered = new RegExp(`10 records on ${topic}/0 \\(offsets 10–19\\) were delivered before logmon restarted`);
		// stdout and stderr are two pipes: the notice may reach the test a moment after r29.
		await second.until(() => second.lines.includes('r29') && redelivered.test(second.stderr), 'r29 and the redelivery notice');
		expect(first.lines).toEqual(Array.from({length: 20}, (_, i) => `r${i}`));
		expect(second.lines).toEqual(Array.from({length: 20}, (_, i) => `r${10 + i}`));
		await second.stop();
		expect(second.stderr).toMatch(/10 records delivered again after a restart/);
		expect(await kafka.committed(group, [topic])).toEqual({[`${topic}/0`]: 30});
	});

	/**
	 * logmon reading a new one-partition topic as a group at "latest" (not --from-beginning: a group
	 * with no offset for a partition starts at its end), once it surely reads: a record written just
	 * after the join may come before the group's start offset, so probes go until one comes out
	 * (at most 20 s). Returns logmon and the number of probe lines.
	 */
	const readingAtLatest = async (topic: string): Promise<{m: Running; probes: number}> => {
		await kafka.createTopics([{topic}]);
		const m = logmon(['--topic', topic, '-G', unique('g'), '-o', 'raw']);
		await m.joined();
		for (let i = 0; m.lines.length === 0; i++) {
			expect(i).toBeLessThan(20);
			await kafka.produce(topic, [{value: `probe-${i}`, partition: 0}]);
			const deadline = Date.now() + 1000;
			while (m.lines.length === 0 && Date.now() < deadline) {
				await new Promise(resolve => setTimeout(resolve, 50));
			}
		}

		return {m, probes: m.lines.length};
	};

	// The group notices a new partition at a metadata refresh (every 10 s) and rebalances: with the
	// probes (20 s at most), well within these tests' 120 s.
	test('a partition added while logmon consumes is read from its first record', async () => {
		const topic = unique('grow');
		const {m, probes} = await readingAtLatest(topic);
		await kafka.produce(topic, [{value: 'p0-a', partition: 0}]);
		await m.lineCount(probes + 1);
		await kafka.addPartitions(topic, 2);
		// A client of its own, whose metadata holds the new partition.
		const writer = tool(address);
		try {
			await writer.produce(topic, Array.from({length: 5}, (_, i) => ({value: `p1-${i}`, partition: 1})));
			// The group notices the partition at a metadata refresh, rejoins, and reads it from its start.
			await m.joined(2);
			await m.lineCount(probes + 6);
			await writer.produce(topic, [{value: 'p1-after', partition: 1}, {value: 'p0-after', partition: 0}]);
			await m.lineCount(probes + 8);
		} finally {
			await writer.disconnect();
		}

		expect(m.lines.filter(l => !l.startsWith('probe-')).sort()).toEqual(['p0-a', 'p0-after', 'p1-0', 'p1-1', 'p1-2', 'p1-3', 'p1-4', 'p1-after']);
		expect(m.stderr).toMatch(new RegExp(`${topic}/1: newly assigned, with no committed offset: read from offset 0`));
	}, 120_000);

	test('a partition added while logmon consumes, written to all along, shows each of its records once', async () => {
		// kafkajs starts a partition with no committed offset at its end: what it showed from there
		// before logmon sought it back to its first record made the records before look like repeats.
		const topic = unique('grow-busy');
		const {m, probes} = await readingAtLatest(topic);
		await kafka.addPartitions(topic, 2);
		const writer = tool(address);
		const written: string[] = [];
		const noticed = new RegExp(`${topic}/1: newly assigned`);
		try {
			// Written to from before the group notices the partition until it has read from it a while.
			const deadline = Date.now() + 45_000;
			for (let after = 0; after < 20;) {
				expect(Date.now()).toBeLessThan(deadline);
				const values = Array.from({length: 5}, (_, i) => `p1-${String(written.length + i).padStart(6, '0')}`);
				await writer.produce(topic, values.map(value => ({value, partition: 1})));
				written.push(...values);
				if (noticed.test(m.stderr) && m.lines.some(l => l.startsWith('p1-'))) {
					after++;
				}

				await new Promise(resolve => setTimeout(resolve, 10));
			}
		} finally {
			await writer.disconnect();
		}

		await m.lineCount(probes + written.length, 30_000);
		expect(m.lines.filter(l => l.startsWith('p1-'))).toEqual(written);
		expect(m.lines).toHaveLength(probes + written.length);
	}, 120_000);

	test('two instances in one group split a 4-partition topic', async () => {
		const topic = unique('split');
		const group = unique('g');
		await kafka.createTopics([{topic, partitions: 4}]);
		const args = ['--topic', topic, '-G', group, '--from-beginning', '-o', 'json'];
		const a = logmon(args);
		await a.joined();
		const b = logmon(args);
		await b.joined();
		// Both members synced: each holds two partitions.
		const deadline = Date.now() + 60_000;
		for (;;) {
			const g = await kafka.describeGroup(group);
			if (g.state === 'Stable' && g.members.length === 2 && g.members.every(mem => mem.partitions.length === 2)) {
				break;
			}

			expect(Date.now()).toBeLessThan(deadline);
			await new Promise(resolve => setTimeout(resolve, 200));
		}

		await a.joined(2);
		for (let p = 0; p < 4; p++) {
			await kafka.produce(topic, Array.from({length: 10}, (_, i) => ({value: `p${p}-${i}`, partition: p})));
		}

		await a.until(() => a.lines.length + b.lines.length >= 40, '40 records across both');
		const partsOf = (r: Running): number[] => [...new Set(r.json().map(e => e['record']['partition'] as number))].sort();
		expect(partsOf(a)).toHaveLength(2);
		expect(partsOf(b)).toHaveLength(2);
		expect([...partsOf(a), ...partsOf(b)].sort()).toEqual([0, 1, 2, 3]);
		const all = [...a.json(), ...b.json()].map(e => e['message'] as string).sort();
		expect(all).toEqual(Array.from({length: 40}, (_, i) => `p${Math.floor(i / 10)}-${i % 10}`).sort());
		// A clean stop leaves the group at once: the other member takes every partition.
		await a.stop();
		await b.until(() => b.stderr.includes(`joined group ${group}: ${topic}/0, ${topic}/1, ${topic}/2, ${topic}/3`), 'b to take every partition');
	});

	test('a slow stdout reader pauses the consumer instead of growing memory', async () => {
		const topic = unique('slow');
		const group = unique('g');
		const total = 60_000;
		await kafka.createTopics([{topic}]);
		const pad = 'x'.repeat(150);
		for (let i = 0; i < total; i += 10_000) {
			await kafka.produce(topic, Array.from({length: 10_000}, (_, j) => ({value: `line ${i + j} ${pad}`})));
		}

		const m = logmon(['--topic', topic, '-G', group, '--from-beginning', '-o', 'raw'], false);
		await m.joined();
		// Wait until the committed offset stops moving: logmon is paused on a full pipe.
		let last = -1;
		let steady = 0;
		while (steady < 3) {
			await new Promise(resolve => setTimeout(resolve, 700));
			const now = (await kafka.committed(group, [topic]))[`${topic}/0`] ?? -1;
			steady = now === last && now > 0 ? steady + 1 : 0;
			last = now;
		}

		expect(last).toBeLessThan(total);
		const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${m.child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
		expect(rss).toBeLessThan(400 * 1024 * 1024);

		m.read();
		await m.lineCount(total, 90_000);
		expect(m.lines).toHaveLength(total);
		expect(m.lines[0]).toBe(`line 0 ${pad}`);
		expect(m.lines.at(-1)).toBe(`line ${total - 1} ${pad}`);
		await m.stop();
		expect(m.stderr).not.toMatch(/dropped/);
	});

	test('logmon publish --to kafka:// writes the logging handler\'s records, errors to both topics', async () => {
		const topic = unique('pub');
		const errors = `${topic}-errors`;
		await kafka.createTopics([{topic}, {topic: errors}]);
		// Fresh topics, so --from-beginning: a new group at "latest" would race the producer.
		const m = logmon(['--topic', topic, '--topic', errors, '-G', unique('g'), '--from-beginning', '-o', 'json']);
		await m.joined();
		const input = [
			'2025-01-02 03:04:05,678 INFO dfs.DataNode: Receiving block blk_1',
			'plain line that says ERROR connection refused',
			JSON.stringify({level: 'critical', service: 'ledger', message: 'out of balance'}),
			'',
			'one WARN line',
		].join('\n');
		const r = await run(['publish', '--to', `kafka://${address}/${topic}`, '--service', 'shop'], {input});
		expect(r.stderr).toContain(`4 records to ${topic}, 2 of them also to ${errors}`);
		expect(r.code).toBe(0);
		await kafka.produce(topic, [{value: 'sentinel'}]);
		await kafka.produce(errors, [{value: 'sentinel'}]);
		await m.until(() => m.lines.filter(l => l.includes('"message":"sentinel"')).length === 2, 'both sentinels');
		const events = m.json().filter(e => e['message'] !== 'sentinel');
		// Two topics are fetched independently: the errors topic's copies may come first, so only each topic's own order holds.
		const rows = events.map(e => [e['service'], e['level'], e['message']] as string[]);
		expect([...rows].sort()).toEqual([
			['ledger', 'CRITICAL', 'out of balance'],
			['shop', 'ERROR', 'plain line that says ERROR connection refused'],
			['shop', 'INFO', '2025-01-02 03:04:05,678 INFO dfs.DataNode: Receiving block blk_1'],
			['shop', 'WARN', 'one WARN line'],
		]);
		const at = (level: string) => rows.findIndex(r => r[1] === level);
		expect(at('INFO')).toBeLessThan(at('WARN'));
		expect(at('ERROR')).toBeLessThan(at('CRITICAL'));
		const value = events[at('INFO')]!['record']['value'] as Record<string, unknown>;
		expect(Object.keys(value)).toEqual(expect.arrayContaining(['id', 'timestamp', 'service', 'host', 'level', 'logger', 'message']));
		// Both copies of the two errors arrived before the sentinel; each was shown once.
		expect((await kafka.highWatermarks(errors))[`${errors}/0`]).toBe(3);
		expect(m.lines).toHaveLength(6);
	});
});
