import {type DiagLogger, DiagLogLevel, context, diag, trace} from '@opentelemetry/api';
import {type AnyValueMap, type LogBody, SeverityNumber} from '@opentelemetry/api-logs';
import {OTLPLogExporter as HttpJsonExporter} from '@opentelemetry/exporter-logs-otlp-http';
import {OTLPLogExporter as ProtoExporter} from '@opentelemetry/exporter-logs-otlp-proto';
import {resourceFromAttributes} from '@opentelemetry/resources';
import {BatchLogRecordProcessor, LoggerProvider} from '@opentelemetry/sdk-logs';

// The official OpenTelemetry JS log exporters as the real peers of logmon's OTLP receiver:
// a LoggerProvider with a batch processor (512 records per export, as by default) and the
// OTLP/HTTP exporter in protobuf or JSON, gzip or not.

export type Encoding = 'proto' | 'json';

export type SenderOptions = {
	url: string;
	encoding: Encoding;
	gzip: boolean;
	resource?: Record<string, string>;
	batch?: number;
	/** Records held before the processor drops: large, so that only logmon decides what is lost. */
	maxQueue?: number;
};

export function otelSender(options: SenderOptions) {
	const exporterOptions = {url: options.url, compression: options.gzip ? 'gzip' : 'none', timeoutMillis: 10_000} as const;
	const exporter = options.encoding === 'proto' ? new ProtoExporter(exporterOptions as never) : new HttpJsonExporter(exporterOptions as never);
	const provider = new LoggerProvider({
		resource: resourceFromAttributes(options.resource ?? {'service.name': 'shop', 'host.name': 'web1', 'deployment.environment': 'prod'}),
		processors: [new BatchLogRecordProcessor({exporter, maxExportBatchSize: options.batch ?? 512, maxQueueSize: options.maxQueue ?? 1_000_000, scheduledDelayMillis: 50})],
	});
	return {provider, logger: provider.getLogger('checkout', '1.2.3')};
}

/** A context carrying a sampled span, so that records emitted in it have trace and span ids. */
export function spanContext(traceId: string, spanId: string) {
	return trace.setSpanContext(context.active(), {traceId, spanId, traceFlags: 1});
}

export {SeverityNumber, type AnyValueMap, type LogBody};

/** Lines the exporters write through the OpenTelemetry diag API (retries, failures). */
export function captureDiag(): {lines: string[]; stop: () => void} {
	const lines: string[] = [];
	const log = (...args: unknown[]): void => {
		lines.push(args.map(String).join(' '));
	};

	const logger: DiagLogger = {error: log, warn: log, info: log, debug: log, verbose: log};
	diag.setLogger(logger, DiagLogLevel.VERBOSE);
	return {lines, stop: () => diag.disable()};
}
