import os from 'node:os';
import {type CloudwatchForwardConfig} from '../../config/forward-cloudwatch.js';
import {type CloudwatchEvent, cloudwatchLimits, cloudwatchMessage, cloudwatchText, countRejected, eventSize, packRequests, type RejectedCounts, truncateMessage} from '../../core/cloudwatch-batch.js';
import {compileName} from '../../core/cloudwatch-names.js';
import {type LogEvent} from '../../core/event.js';
import {type Destination, type DestinationContext, type SendOutcome} from './destination.js';

// The cloudwatch destination: PutLogEvents through the AWS SDK, the only file that imports it,
// loaded (with the SDK) only when a cloudwatch forwarder is configured. The delivery loop cuts
// batches per (group, stream) within the limits below; send() sorts each by time, splits it
// where it would span over 24 hours, and creates a missing group or stream on the way.

/** Errors worth another try later: throttling, AWS's own trouble, a request that never got an answer. */
const retryableNames = new Set([
	'ThrottlingException',
	'ServiceUnavailableException',
	'LimitExceededException',
	'OperationAbortedException',
	'RequestTimeout',
	'RequestTimeoutException',
	'InternalFailure',
	'TimeoutError',
	'CredentialsProviderError',
	'ExpiredTokenException',
]);

type SdkError = Error & {$metadata?: {httpStatusCode?: number}; $fault?: string; code?: string};

function isRetryable(error: SdkError): boolean {
	const status = error.$metadata?.httpStatusCode;
	return retryableNames.has(error.name) || status === undefined || status === 429 || status >= 500 || error.$fault === 'server';
}

function explain(error: SdkError): string {
	const status = error.$metadata?.httpStatusCode;
	const code = error.code ? ` ${error.code}` : '';
	return `${error.name}${status ? ` (${status})` : code}: ${error.message}`;
}

/** An event on its way: as CloudWatch takes it, and the event it came from. */
type Pending = CloudwatchEvent & {event: LogEvent};

export async function createDestination(config: CloudwatchForwardConfig, context: DestinationContext): Promise<Destination> {
	// The SDK warns on every start under Node 20 that later versions will need Node 22; this one is pinned.
	process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
	const sdk = await import('@aws-sdk/client-cloudwatch-logs');
	const client = new sdk.CloudWatchLogsClient({
		region: config.region,
		endpoint: config.endpoint,
		// The delivery loop retries, with backoff, and keeps count; the SDK tries once.
		maxAttempts: 1,
		// Well within the delivery loop's own limit on an attempt (30 s by default).
		requestHandler: {connectionTimeout: 5000, requestTimeout: 20_000},
	});
	let region: string;
	try {
		region = await client.config.region();
	} catch {
		client.destroy();
		throw new Error(`forward ${context.name}: no AWS region for cloudwatch: give one (cloudwatch://REGION, or "region" in the config) or set AWS_REGION`);
	}

	const groupName = compileName('group', config.group ?? os.hostname(), process.env);
	const streamName = compileName('stream', config.stream, process.env);
	const key = (event: LogEvent): string => `${groupName(event)}:${streamName(event)}`;
	const origin = `forward ${context.name}`;
	const counts = {requests: 0, tooOld: 0, tooNew: 0, expired: 0, truncated: 0, groupsCreated: 0, streamsCreated: 0, notResent: 0};
	let closed = false;
	// A batch cut into several requests may fail after some went through. The loop tries the
	// whole batch again; the events already put are left out then, known by identity (the same
	// objects: an event read back from the spool is another object and goes again, at least once).
	// Only a failed batch's events are remembered, and only while the loop holds them.
	const delivered = new WeakSet<LogEvent>();

	/** Create `group` (when allowed, with its retention) and `stream`: ok once both exist. */
	async function create(group: string, stream: string): Promise<SendOutcome> {
		const exists = (error: unknown): boolean => (error as Error).name === 'ResourceAlreadyExistsException';
		if (config.createGroup) {
			try {
				await client.send(new sdk.CreateLogGroupCommand({logGroupName: group}));
				counts.groupsCreated++;
				context.diagnostics.add('info', origin, `created log group ${group}`);
				if (config.retentionDays !== undefined) {
					await client.send(new sdk.PutRetentionPolicyCommand({logGroupName: group, retentionInDays: config.retentionDays})).catch((error: unknown) => {
						context.diagnostics.add('warn', origin, `log group ${group}: retention of ${config.retentionDays} days not set: ${explain(error as SdkError)}`);
					});
				}
			} catch (error) {
				if (!exists(error)) {
					return failure(error as SdkError, `creating log group ${group}`);
				}
			}
		}

		if (!config.createStream) {
			return {ok: false, retry: false, reason: `log group ${group} or stream ${stream} does not exist at ${region} (createStream is false)`};
		}

		try {
			await client.send(new sdk.CreateLogStreamCommand({logGroupName: group, logStreamName: stream}));
			counts.streamsCreated++;
		} catch (error) {
			if (exists(error)) {
				return {ok: true};
			}

			const missingGroup = (error as Error).name === 'ResourceNotFoundException';
			return missingGroup && !config.createGroup
				? {ok: false, retry: false, reason: `log group ${group} does not exist at ${region} (createGroup is false)`}
				: failure(error as SdkError, `creating log stream ${group}/${stream}`);
		}

		return {ok: true};
	}

	function failure(error: SdkError, doing: string): SendOutcome {
		return {ok: false, retry: isRetryable(error), reason: `${doing} at ${region}: ${explain(error)}`};
	}

	// CloudWatch leaves such events out and stores the rest: said once per reason, counted always.
	const warned = new Set<string>();
	function warnRejected(group: string, stream: string, rejected: RejectedCounts): void {
		const why = {tooOld: 'over 14 days old', tooNew: 'over 2 hours ahead', expired: 'older than the group\'s retention'};
		for (const reason of ['tooOld', 'tooNew', 'expired'] as const) {
			if (rejected[reason] > 0 && !warned.has(reason)) {
				warned.add(reason);
				context.diagnostics.add('warn', origin, `CloudWatch left out ${rejected[reason]} event(s) of ${group}/${stream} for being ${why[reason]}; counted in health as ${reason} (said once)`);
			}
		}
	}

	async function put(group: string, stream: string, request: readonly Pending[]): Promise<SendOutcome> {
		const logEvents: CloudwatchEvent[] = request.map(({timestamp, message}) => ({timestamp, message}));
		for (let attempt = 0; ; attempt++) {
			try {
				counts.requests++;
				// eslint-disable-next-line no-await-in-loop -- requests of one stream go in order
				const reply = await client.send(new sdk.PutLogEventsCommand({logGroupName: group, logStreamName: stream, logEvents}));
				const rejected = countRejected(reply.rejectedLogEventsInfo, logEvents.length);
				counts.tooOld += rejected.tooOld;
				counts.tooNew += rejected.tooNew;
				counts.expired += rejected.expired;
				warnRejected(group, stream, rejected);
				return {ok: true};
			} catch (error) {
				const name = (error as Error).name;
				if (name === 'DataAlreadyAcceptedException') {
					return {ok: true};
				}

				if (name !== 'ResourceNotFoundException' || attempt > 0) {
					return failure(error as SdkError, `PutLogEvents to ${group}/${stream}`);
				}

				// eslint-disable-next-line no-await-in-loop -- then the put once more
				const created = await create(group, stream);
				if (!created.ok) {
					return created;
				}
			}
		}
	}

	return {
		kind: 'cloudwatch',
		target: `${region}/${config.group ?? os.hostname()}`,
		limits: {maxEvents: cloudwatchLimits.maxEvents, maxBytes: cloudwatchLimits.maxBytes, delayMs: config.delay},
		measure: event => eventSize(cloudwatchMessage(event)),
		partition: key,
		async send(events) {
			if (closed) {
				return {ok: false, retry: true, reason: 'closed'};
			}

			// The loop hands one partition; several are still handled, each on its own.
			const streams = new Map<string, {group: string; stream: string; events: Pending[]}>();
			for (const event of events) {
				if (delivered.has(event)) {
					counts.notResent++;
					continue;
				}

				const group = groupName(event);
				const stream = streamName(event);
				const id = `${group}:${stream}`;
				let entry = streams.get(id);
				if (!entry) {
					entry = {group, stream, events: []};
					streams.set(id, entry);
				}

				const text = cloudwatchText(event);
				const message = truncateMessage(text);
				if (message !== text) {
					counts.truncated++;
				}

				entry.events.push({timestamp: Math.floor(event.time), message, event});
			}

			const done: Pending[][] = [];
			for (const {group, stream, events: all} of streams.values()) {
				for (const request of packRequests(all)) {
					// eslint-disable-next-line no-await-in-loop -- one request at a time, in time order
					const outcome = await put(group, stream, request);
					if (!outcome.ok) {
						for (const p of done.flat()) {
							delivered.add(p.event);
						}

						return outcome;
					}

					done.push(request);
				}
			}

			return {ok: true};
		},
		details: () => ({...counts}),
		async close() {
			if (!closed) {
				closed = true;
				client.destroy();
			}
		},
	};
}
