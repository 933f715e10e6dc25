import {type App} from './app.js';
import {type SourceConfig, sourceConfig} from './config/schema.js';
import {DemoFile} from './demo-file.js';
import {probeDocker, probeJournal} from './demo-local.js';
import {type DemoLogFile, readDemoLog} from './demo-logs.js';
import {DemoOtlpPoster} from './demo-otlp.js';
import {LogioPublisher} from './publish/logio.js';
import {type LogioListenSource} from './sources/logio-listen.js';
import {type OtlpSource} from './sources/otlp.js';
import {sampleLine} from './testing/logstream-samples.js';
import {LogstreamTestServer} from './testing/logstream-server.js';

// `logmon --demo`: everything runs in this process. A logstream test server (several
// servers and log types) and logio publishers replay real logs from the loghub
// fixtures at --demo-rate lines per second, so every pane has something to show.
// A file source follows a log the demo writes and rotates (demo-file.ts), and an OTLP
// listener on a loopback port receives what the demo's instrumented services post to it
// (demo-otlp.ts). With KAFKA_BROKERS set, Kafka joins: demo services produce JSON records to
// application-logs (errors also to application-logs-errors) and logmon consumes them. Docker
// and journald join when this machine has them (demo-local.ts), and are skipped otherwise.

/** A logio app replaying one fixture. */
const logioApps: Array<{file: DemoLogFile; app: string; proc: string; host: string}> = [
	{file: 'Zookeeper_2k.log', app: 'zookeeper', proc: 'quorum', host: 'zk-1'},
	{file: 'Hadoop_2k.log', app: 'hadoop', proc: 'mapreduce', host: 'hd-1'},
	{file: 'Spark_2k.log', app: 'spark', proc: 'executor', host: 'spark-2'},
	{file: 'OpenStack_2k.log', app: 'openstack', proc: 'nova', host: 'nova-1'},
	{file: 'HDFS_2k.log', app: 'hdfs', proc: 'datanode', host: 'dn-3'},
	{file: 'OpenSSH_2k.log', app: 'sshd', proc: 'sshd', host: 'bastion'},
];

/** Logstream types fed with generated lines; apache-error replays the Apache fixture. */
const logstreamTypes = ['apache-request', 'varnish-request', 'php-error', 'drupal-watchdog', 'apache-error'];

/** Now and then a logio app logs a fake secret; the redaction stage replaces it before anyone sees it. */
const fakeSecrets = [
	'config reload: aws_access_key_id=AKIAIOSFODNN7EXAMPLE region=eu-west-1',
	'payment retry for card 4111 1111 1111 1111 (declined)',
	'connecting to postgres://app:demo-Pa55word@db.internal:5432/orders',
	'calling billing api with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl',
	// A user rule's catch: --demo adds the rule `order-token=tok_[a-z0-9]{24}` (settings.ts).
	'order 7731 paid with tok_4f9c2a7e1b8d3f6a0c5e9b2d',
];

/** The fixture's lines; the logs ship with logmon (see demo-logs.ts). */
function fixtureLines(file: DemoLogFile): string[] {
	return readDemoLog(file).split(/\r?\n/).filter(Boolean);
}

export type Demo = {
	/** What the demo runs, for its start-up line: sources, the followed file, what was skipped and why. */
	summary: string;
	stop: () => Promise<void>;
};

export type DemoOptions = {
	/** Lines per second, all streams together. */
	rate: number;
	debug: boolean;
	maxLine: number;
	/** Brokers from KAFKA_BROKERS: Kafka joins the demo. */
	kafkaBrokers?: string | undefined;
	/** For DOCKER_HOST. */
	env?: NodeJS.ProcessEnv;
};

/** The followed file is rotated past this size or this age, whichever comes first. */
const rotateBytes = 1024 * 1024;
const rotateMs = 60_000;
/** Of every 40 demo lines: one goes to the OTLP services, four to the followed file. */
const otlpEvery = 40;
const fileEvery = 10;

/** Kafka services of the demo, each replaying a fixture as JSON records. */
const kafkaServices: Array<{file: DemoLogFile; service: string; host: string}> = [
	{file: 'Hadoop_2k.log', service: 'orders', host: 'orders-7f9c'},
	{file: 'BGL_2k.log', service: 'payments', host: 'payments-2b1d'},
	{file: 'Linux_2k.log', service: 'auth', host: 'auth-0c44'},
];

type KafkaFeed = {send: () => void; stop: () => Promise<void>};

/** Produce demo records in batches, as the services' logging handler would (errors to both topics). */
async function kafkaFeed(app: App, brokers: string[], options: DemoOptions): Promise<KafkaFeed> {
	const {KafkaTool} = await import('./sources/kafka.js');
	const {recordFor} = await import('./publish/kafka.js');
	const tool = new KafkaTool({brokers, clientId: 'logmon-demo'});
	const topics = ['application-logs', 'application-logs-errors'];
	await tool.createTopics(topics.map(topic => ({topic}))).catch(() => undefined);
	await app.addSources([sourceConfig.parse({type: 'kafka', name: 'kafka', brokers, topics, ephemeralGroup: true})], {debug: options.debug, maxLine: options.maxLine});
	const replays = kafkaServices.map(k => ({...k, lines: fixtureLines(k.file), next: 0}));
	let pending: Array<{value: string; level: string; service: string}> = [];
	let i = 0;
	let busy = false;
	const timer = setInterval(() => {
		if (busy || pending.length === 0) {
			return;
		}

		const batch = pending;
		pending = [];
		busy = true;
		const main = batch.map(r => ({key: r.service, value: r.value}));
		const errors = batch.filter(r => r.level === 'ERROR' || r.level === 'CRITICAL').map(r => ({key: r.service, value: r.value}));
		void Promise.all([tool.produce(topics[0]!, main), errors.length > 0 ? tool.produce(topics[1]!, errors) : undefined])
			.catch(() => undefined) // the kafka source shows the broker's state
			.finally(() => {
				busy = false;
			});
	}, 200);
	timer.unref();
	return {
		send() {
			const r = replays[i++ % replays.length]!;
			const line = r.lines[r.next++ % r.lines.length]!;
			if (pending.length < 10_000) {
				pending.push({...recordFor(line, r.service, r.host), service: r.service});
			}
		},
		async stop() {
			clearInterval(timer);
			await tool.disconnect().catch(() => undefined);
		},
	};
}

/** Docker and journald sources when the machine has them; what was skipped, and why. */
async function localSources(options: DemoOptions): Promise<{configs: SourceConfig[]; said: string[]}> {
	const [docker, journal] = await Promise.all([probeDocker(options.env), probeJournal()]);
	const configs: SourceConfig[] = [];
	const said: string[] = [];
	if (docker.ok) {
		configs.push(sourceConfig.parse({type: 'docker'}));
		said.push(`docker (${docker.at})`);
	} else {
		said.push(`docker skipped (${docker.why})`);
	}

	if (journal.ok) {
		configs.push(sourceConfig.parse({type: 'journald'}));
		said.push('journald');
	} else {
		said.push(`journald skipped (${journal.why})`);
	}

	return {configs, said};
}

/** Start the embedded servers and add their sources to the app (before `app.start()`). */
export async function startDemo(app: App, options: DemoOptions): Promise<Demo> {
	const server = await LogstreamTestServer.start({site: 'demo:drupalsite', environment: 'prod'});
	server.addServer('web-3', ['apache-request', 'php-error', 'drupal-watchdog']);
	const deps = {debug: options.debug, maxLine: options.maxLine};
	const file = await DemoFile.create({lines: fixtureLines('Hadoop_2k.log'), rotateBytes, rotateMs});
	const local = await localSources(options);
	const first = app.sources.length;
	await app.addSources([
		{type: 'logstream', name: 'logstream', url: server.url, auth: server.auth()},
		{type: 'logio-listen', name: 'logio', listen: '127.0.0.1:0'},
		{type: 'file', paths: [file.file]},
		{type: 'otlp', listen: '127.0.0.1:0'},
	].map(c => sourceConfig.parse(c)), deps);
	await app.addSources(local.configs, deps);
	const added = app.sources.slice(first).map(s => s.source);
	const listener = added.find(s => s.id === 'logio') as LogioListenSource | undefined;
	const otlpSource = added.find(s => s.kind === 'otlp') as OtlpSource | undefined;
	const otlp = new DemoOtlpPoster(() => otlpSource?.address);
	const kafka = options.kafkaBrokers ? await kafkaFeed(app, options.kafkaBrokers.split(',').map(b => b.trim()).filter(Boolean), options) : undefined;

	const apache = fixtureLines('Apache_2k.log');
	const replays = logioApps.map(a => ({...a, lines: fixtureLines(a.file), next: 0, publisher: undefined as LogioPublisher | undefined}));
	const webServers = ['web-1', 'web-2', 'web-3'];
	let i = 0;
	let credit = 0;
	const tickMs = 100;
	const timer = setInterval(() => {
		credit += options.rate * tickMs / 1000;
		const address = listener?.address;
		for (; credit >= 1; credit--) {
			i++;
			if (i % otlpEvery === 0) {
				otlp.send();
				continue;
			}

			if (i % fileEvery === 5) {
				file.send();
				continue;
			}

			// Half the other lines go to logstream, half to the logio apps; with Kafka, a third each.
			if (kafka && i % 3 === 0) {
				kafka.send();
				continue;
			}

			if (i % 2 === 0) {
				const type = logstreamTypes[(i / 2) % logstreamTypes.length]!;
				const host = type === 'varnish-request' ? 'bal-1' : webServers[i % webServers.length]!;
				const line = type === 'apache-error' ? {text: apache[i % apache.length]!} : sampleLine(type, host, i);
				server.line({server: host, type, ...line});
				continue;
			}

			if (!address) {
				continue;
			}

			const r = replays[((i - 1) / 2) % replays.length]!;
			r.publisher ??= new LogioPublisher({host: address.host, port: address.port, topic: {app: r.app, proc: r.proc, host: r.host}});
			const secret = i % 100 === 1 ? fakeSecrets[Math.floor(i / 100) % fakeSecrets.length] : undefined;
			r.publisher.send((secret ?? r.lines[r.next++ % r.lines.length]!) + '\n');
		}

		file.flush();
	}, tickMs);
	timer.unref();

	const sources = ['logstream', 'logio', `file (${file.file}, rotated every ${rotateBytes / 1024 / 1024} MiB or ${rotateMs / 60_000} min)`, 'otlp (the demo services post to it over loopback)', ...(kafka ? ['kafka'] : []), ...local.said];
	return {
		summary: `demo: sources ${sources.join(', ')}`,
		async stop() {
			clearInterval(timer);
			otlp.stop();
			await Promise.allSettled([...replays.map(async r => r.publisher?.close()), kafka?.stop()]);
			await server.stop();
			await file.stop();
		},
	};
}
