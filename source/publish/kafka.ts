import {randomUUID} from 'node:crypto';
import {hostname} from 'node:os';
import {type Readable} from 'node:stream';
import {type Flags, list} from '../cli.js';
import {exitCodes} from '../exit.js';
import {LineSplitter} from '../core/lines.js';
import {handlerRecord, isErrorLevel} from '../core/handler-record.js';
import {eventFromLine, eventFromRecord, parseJsonObject} from '../core/record.js';
import {type OutRecord, KafkaTool} from '../sources/kafka.js';

// `logmon publish --to kafka://127.0.0.1:9092/application-logs`: each stdin line becomes
// one JSON record the way the services' Kafka logging handler writes them
// ({timestamp, service, host, level, logger, message}); ERROR and CRITICAL records also
// go to <topic>-errors. The id lets a consumer of both topics show such a record once.

const batchSize = 500;

export type PublishTarget = {brokers: string[]; topic: string; errorsTopic: string};

export function kafkaTarget(url: URL): PublishTarget {
	// kafka://host:port[,host:port]/topic
	const authority = /^kafka:\/\/([^/?#]*)/.exec(url.href)?.[1] ?? url.host;
	const brokers = authority.split(',').map(b => b.trim()).filter(Boolean);
	const topic = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'application-logs';
	return {brokers, topic, errorsTopic: `${topic}-errors`};
}

/** One input line to the record value, in the logging handler's shape. */
export function recordFor(line: string, service: string, host: string, now = Date.now()): {value: string; level: string} {
	const obj = parseJsonObject(line);
	const e = obj
		? eventFromRecord(obj, line, {sourceId: 'publish', sourceKind: 'stdin', service, host, receivedAt: now})
		: eventFromLine(line, {sourceId: 'publish', sourceKind: 'stdin', service, host, receivedAt: now});
	return {value: JSON.stringify(handlerRecord(e, randomUUID, obj ?? null)), level: e.level};
}

export async function publishKafka(url: URL, flags: Flags, input: Readable, stderr: NodeJS.WritableStream): Promise<number> {
	const target = kafkaTarget(url);
	if (target.brokers.length === 0) {
		stderr.write('logmon: publish: --to: no broker in the URL, e.g. kafka://127.0.0.1:9092/application-logs\n');
		return exitCodes.usage;
	}

	const service = list(flags.service)[0] ?? 'stdin';
	const host = hostname();
	const tool = new KafkaTool({brokers: target.brokers, clientId: 'logmon-publish'}, (level, text) => {
		if (level === 'warn' || level === 'error' || flags.debug) {
			stderr.write(`logmon: publish: kafkajs: ${text}\n`);
		}
	});

	let main: OutRecord[] = [];
	let errors: OutRecord[] = [];
	let sent = 0;
	let sentErrors = 0;
	const flush = async (): Promise<void> => {
		const m = main;
		const er = errors;
		main = [];
		errors = [];
		await tool.produce(target.topic, m);
		await tool.produce(target.errorsTopic, er);
		sent += m.length;
		sentErrors += er.length;
	};

	const splitter = new LineSplitter();
	const take = async (lines: Array<{text: string}>): Promise<void> => {
		for (const {text} of lines) {
			if (text.length === 0) {
				continue;
			}

			const {value, level} = recordFor(text, service, host);
			const record = {key: service, value};
			main.push(record);
			if (isErrorLevel(level)) {
				errors.push(record);
			}

			if (main.length >= batchSize) {
				await flush();
			}
		}
	};

	try {
		// Read, then send, then read again: the producer's pace is the input's pace.
		for await (const chunk of input) {
			await take(splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer));
			if (main.length > 0) {
				await flush();
			}
		}

		await take(splitter.end());
		await flush();
	} catch (error) {
		stderr.write(`logmon: publish: ${error instanceof Error ? error.message : String(error)} (${sent} records sent before)\n`);
		await tool.disconnect();
		return exitCodes.failed;
	}

	await tool.disconnect();
	stderr.write(`logmon: publish: ${sent} records to ${target.topic}, ${sentErrors} of them also to ${target.errorsTopic}\n`);
	return exitCodes.ok;
}
