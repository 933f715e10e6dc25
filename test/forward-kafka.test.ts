import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {kafkaForwardConfig, kafkaForwardFromUrl} from '../source/config/forward-kafka.js';
import {Diagnostics} from '../source/core/diagnostics.js';
import {type LogEvent} from '../source/core/event.js';
import {type Destination} from '../source/sinks/forward/destination.js';
import {createDestination} from '../source/sinks/forward/kafka.js';
import {type KafkaTool} from '../source/sources/kafka.js';
import {event} from './support/events.js';
import {brokers, canStartBrokers, securedListeners, skipKafka, stateHome, tool, unique} from './support/kafka.js';
import {Running} from './support/kafka-logmon.js';

// The kafka destination against the real broker: batches sent with send(), then read back
// by the built logmon's Kafka source. No mocks.

describe('kafka forward config', () => {
	test('a --forward URL names brokers, topic and options', () => {
		expect(kafkaForwardFromUrl(new URL('kafka://k1:9092/app-logs?brokers=k2:9092,k3:9092&errors=1&key=host&acks=leader&compression=gzip&batchBytes=500000'))).toEqual({
			type: 'kafka', brokers: ['k1:9092', 'k2:9092', 'k3:9092'], topic: 'app-logs', errorsTopic: true, key: 'host', acks: 'leader', compression: 'gzip', batchBytes: 500_000,
		});
		expect(kafkaForwardFromUrl(new URL('kafka://k1:9092'))).toEqual({type: 'kafka', brokers: ['k1:9092']});
		expect(kafkaForwardFromUrl(new URL('kafka://k1:9092/t?errors=alerts'))).toMatchObject({errorsTopic: 'alerts'});
		const parsed = kafkaForwardConfig.parse(kafkaForwardFromUrl(new URL('kafka://k1:9092/t?errors=0')));
		expect(parsed).toMatchObject({topic: 't', errorsTopic: false, key: 'service', acks: 'all', compression: 'none'});
	});

	test('bad values are refused, naming the field', () => {
		const fail = (url: string): string => {
			const r = kafkaForwardConfig.safeParse(kafkaForwardFromUrl(new URL(url)));
			return r.success ? 'accepted' : r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ');
		};

		expect(fail('kafka://k1:9092/t?compression=snappy')).toMatch(/^compression:/);
		expect(fail('kafka://k1:9092/t?acks=2')).toMatch(/^acks:/);
		expect(fail('kafka://k1:9092/t?batchSize=lots')).toMatch(/^batchSize:/);
		expect(fail('kafka://k1:9092/t?linger=5')).toMatch(/^linger:/);
		expect(fail('kafka://k1:9092/t?lingerMs=5')).toMatch(/lingerMs/);
		expect(kafkaForwardConfig.parse(kafkaForwardFromUrl(new URL('kafka://k1:9092/t?linger=250ms')))).toMatchObject({linger: 250});
		// A default is taken as it is, not parsed: it must already be milliseconds.
		expect(kafkaForwardConfig.parse(kafkaForwardFromUrl(new URL('kafka://k1:9092/t')))).toMatchObject({linger: 100});
		expect(fail('kafka:///t')).toMatch(/^brokers:/);
		expect(fail('kafka://k1:9092/t?key={nope}')).toMatch(/^key: template "\{nope\}": unknown placeholder \{nope\}.*or "service", "host" or "none"$/);
	});
});

describe.skipIf(skipKafka())('kafka destination', () => {
	let address: string;
	let kafka: KafkaTool;
	const destinations: Destination[] = [];
	const running: Running[] = [];
	const env = {XDG_STATE_HOME: stateHome()};

	const destination = async (fields: Record<string, unknown>): Promise<{d: Destination; diagnostics: Diagnostics}> => {
		const diagnostics = new Diagnostics();
		const d = await createDestination(kafkaForwardConfig.parse({type: 'kafka', brokers: [address], ...fields}), {name: 'kafka', diagnostics});
		destinations.push(d);
		return {d, diagnostics};
	};

	/** Everything on the topics, through the built logmon's Kafka source, as JSON events. */
	const readBack = async (topics: string[]): Promise<Array<Record<string, any>>> => {
		const r = new Running(['--kafka', address, ...topics.flatMap(t => ['--topic', t]), '--from-beginning', '--ephemeral', '--exit-at-end', '-o', 'json'], env);
		running.push(r);
		expect(await r.exit()).toBe(0);
		return r.json();
	};

	beforeAll(async () => {
		address = await brokers();
		kafka = tool(address);
	});

	afterAll(async () => {
		await Promise.all(destinations.map(async d => d.close()));
		await Promise.all(running.map(async r => r.stop('SIGKILL')));
		await kafka?.disconnect();
	});

	test('a batch arrives in the logging handler\'s shape, errors also on the errors topic', async () => {
		const topic = unique('fwd');
		await kafka.createTopics([{topic, partitions: 2}, {topic: `${topic}-errors`}]);
		const {d} = await destination({topic, errorsTopic: true});
		expect(d.target).toBe(`${address}/${topic}`);
		const t0 = Date.parse('2026-03-04T05:06:07.089Z');
		const json = JSON.stringify({id: 'rec-1', timestamp: '2026-03-04T05:06:07.089Z', level: 'error', message: 'card declined', took_ms: 81});
		const events: LogEvent[] = [
			event({time: t0, service: 'api', host: 'web-1', proc: 'app.db', level: 'INFO', message: 'plain line', raw: 'plain line\n'}),
			event({time: t0 + 1, service: 'billing', host: 'w2', level: 'ERROR', message: 'card declined', raw: json}),
			event({time: t0 + 2, service: 'api', host: 'web-1', level: 'CRITICAL', message: 'ledger out of balance', raw: 'ledger out of balance', type: 'php-error'}),
			event({time: t0 + 3, service: 'web', host: 'web-2', level: 'WARN', message: 'GET /x 503', raw: 'GET /x 503 \u001B[31mred\u001B[0m ünïcode', status: 503}),
		];
		for (const e of events) {
			expect(d.measure(e)).toBeGreaterThan(Buffer.byteLength(e.raw));
		}

		expect(await d.send(events)).toEqual({ok: true});
		expect(d.details?.()).toMatchObject({records: 4, errorCopies: 2, truncated: 0});

		const all = await readBack([topic, `${topic}-errors`]);
		// The Kafka source shows a record seen on both topics once: each event exactly once.
		// logmon shows the message with its escape sequences stripped; the record keeps them.
		expect(all.map(e => e['message'] as string).sort()).toEqual(['GET /x 503 red ünïcode', 'card declined', 'ledger out of balance', 'plain line']);
		const byMessage = (m: string): Record<string, any> => all.find(e => (e['message'] as string).startsWith(m))!;
		expect(byMessage('plain line')).toMatchObject({service: 'api', host: 'web-1', proc: 'app.db', level: 'INFO', time: '2026-03-04T05:06:07.089Z'});
		expect(byMessage('plain line')['record']).toMatchObject({topic, key: 'api', value: {logger: 'app.db', message: 'plain line', timestamp: '2026-03-04T05:06:07.089Z'}});
		expect(byMessage('card declined')['record']['value']).toEqual({id: 'rec-1', timestamp: '2026-03-04T05:06:07.090Z', service: 'billing', host: 'w2', level: 'ERROR', logger: '', message: 'card declined', took_ms: 81});
		expect(byMessage('ledger')['record']['value']).toMatchObject({type: 'php-error', level: 'CRITICAL'});
		expect(byMessage('GET /x')['record']['value']).toMatchObject({status: 503, message: 'GET /x 503 \u001B[31mred\u001B[0m ünïcode'});
		// Generated ids are unique.
		expect(new Set(all.map(e => e['record']['value']['id'])).size).toBe(4);

		const errors = await readBack([`${topic}-errors`]);
		expect(errors.map(e => e['level'] as string).sort()).toEqual(['CRITICAL', 'ERROR']);
		// The same record on both topics: same value, same id.
		expect(errors.find(e => e['level'] === 'CRITICAL')!['raw']).toBe(byMessage('ledger')['raw']);
	});

	test('keys: by host, none, or a template', async () => {
		const topic = unique('fwd-keys');
		await kafka.createTopics([{topic}]);
		for (const key of ['host', 'none', '{service}/{level}']) {
			const {d} = await destination({topic, key});
			expect(await d.send([event({service: 'api', host: 'web-9', level: 'WARN', message: `key ${key}`, raw: `key ${key}`})])).toEqual({ok: true});
		}

		const all = await readBack([topic]);
		expect(Object.fromEntries(all.map(e => [e['message'], e['record']['key']]))).toEqual({'key host': 'web-9', 'key none': null, 'key {service}/{level}': 'api/WARN'});
		await expect(createDestination({...kafkaForwardConfig.parse({type: 'kafka', brokers: [address]}), key: '{nope}'}, {name: 'k', diagnostics: new Diagnostics()})).rejects.toThrow(/forward k: key: template "\{nope\}": unknown placeholder \{nope\}/);
	});

	test('gzip, and a record over the size cap cut with a marker', async () => {
		const topic = unique('fwd-gzip');
		await kafka.createTopics([{topic}]);
		const {d} = await destination({topic, compression: 'gzip', maxRecordBytes: 100_000});
		const big = 'x'.repeat(300_000);
		const bigJson = JSON.stringify({message: 'y'.repeat(50), blob: 'z'.repeat(300_000)});
		const events = [
			event({message: 'small', raw: 'small'}),
			event({message: big, raw: big}),
			event({message: 'y'.repeat(50), raw: bigJson}),
		];
		expect(d.measure(events[1]!)).toBeLessThanOrEqual(100_000 + 100);
		expect(await d.send(events)).toEqual({ok: true});
		expect(d.details?.()).toMatchObject({records: 3, truncated: 2});
		const all = await readBack([topic]);
		expect(all).toHaveLength(3);
		expect(all[0]!['message']).toBe('small');
		expect(all[1]!['message']).toMatch(/^x{90000,} …\[truncated \d+ bytes\]$/);
		expect((all[1]!['raw'] as string).length).toBeLessThanOrEqual(100_000);
		// The message was not what made it large: the original's other fields are left out.
		expect(all[2]!['record']['value']['blob']).toBeUndefined();
		expect(all[2]!['message']).toMatch(/^y+/);
	});

	test('a batch the broker refuses for good is not retryable, with the broker\'s reason', async () => {
		const topic = unique('fwd-small');
		await kafka.createTopics([{topic, maxMessageBytes: 10_000}]);
		const {d} = await destination({topic});
		const outcome = await d.send([event({message: 'm'.repeat(50_000), raw: 'm'.repeat(50_000)})]);
		expect(outcome).toMatchObject({ok: false, retry: false});
		expect(outcome.ok ? '' : outcome.reason).toMatch(new RegExp(`^${address}/${topic}: .*TOO_LARGE.*lower "maxRecordBytes"`));
		// The next batch is not held up by it.
		expect(await d.send([event({message: 'fits', raw: 'fits'})])).toEqual({ok: true});
	});

	test('a batch larger than the topic takes goes out in parts: only a record too large on its own is refused', async () => {
		const topic = unique('fwd-parts');
		await kafka.createTopics([{topic, maxMessageBytes: 10_000}]);
		const {d} = await destination({topic});
		const small = (tag: string): LogEvent[] => Array.from({length: 40}, (_, i) => event({message: `${tag}-${String(i).padStart(2, '0')} ${'s'.repeat(900)}`}));
		const big = event({message: 'b'.repeat(50_000)});
		const first = small('first');
		const outcome = await d.send([...first.slice(0, 20), big, ...first.slice(20)]);
		expect(outcome).toMatchObject({ok: false, retry: false});
		expect(outcome.ok ? [] : outcome.refused).toEqual([big]);
		// Later batches are cut under the size that was refused from the start.
		expect(await d.send(small('second'))).toEqual({ok: true});
		const names = (await readBack([topic])).map(e => (e['message'] as string).split(' ')[0]);
		expect(names).toEqual([...small('first'), ...small('second')].map(e => e.message.split(' ')[0]));
	});

	// The secured listeners are those of a broker the suite started (scripts/kafka.sh).
	test.skipIf(!canStartBrokers())('SASL and TLS as the Kafka source has them; refused credentials are not retried', async () => {
		const secured = securedListeners()!;
		const topic = unique('fwd-secured');
		await kafka.createTopics([{topic}]);
		const {d: viaSasl} = await destination({brokers: [secured.sasl], topic, sasl: {mechanism: 'scram-sha-512', username: secured.username, password: secured.password}});
		expect(await viaSasl.send([event({message: 'over sasl', raw: 'over sasl'})])).toEqual({ok: true});
		const {d: viaTls} = await destination({brokers: [secured.ssl], topic, ssl: {ca: secured.ca}});
		expect(await viaTls.send([event({message: 'over tls', raw: 'over tls'})])).toEqual({ok: true});
		expect((await readBack([topic])).map(e => e['message'] as string).sort()).toEqual(['over sasl', 'over tls']);

		const {d: refused} = await destination({brokers: [secured.sasl], topic, sasl: {mechanism: 'plain', username: secured.username, password: 'wrong'}});
		const outcome = await refused.send([event({message: 'never', raw: 'never'})]);
		expect(outcome).toMatchObject({ok: false, retry: false});
		expect(outcome.ok ? '' : outcome.reason).toMatch(/authentication failed/i);
	});

	test('a broker that cannot be reached is a retryable failure', async () => {
		const {d, diagnostics} = await destination({brokers: ['127.0.0.1:1'], topic: 'nowhere'});
		expect(diagnostics.recent(10).map(x => x.text).join('\n')).toMatch(/cannot reach 127\.0\.0\.1:1 yet/);
		const outcome = await d.send([event({message: 'lost?', raw: 'lost?'})]);
		expect(outcome).toMatchObject({ok: false, retry: true});
		expect(outcome.ok ? '' : outcome.reason).toMatch(/^127\.0\.0\.1:1\/nowhere: .*(ECONNREFUSED|Connection error)/);
	});
});
