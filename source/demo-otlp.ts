import {randomBytes} from 'node:crypto';
import http from 'node:http';

// The demo's OpenTelemetry application: records with severity, service.name, attributes and
// trace ids, posted as OTLP/HTTP JSON batches (ExportLogsServiceRequest, written by hand: no
// SDK in the product) to the demo's OTLP listener through a real socket, once a second. A
// 429 or 503 is answered as an exporter does: the batch is kept and sent again after Retry-After.

type Attribute = {key: string; value: {stringValue: string} | {intValue: string} | {boolValue: boolean}};
type Body = {stringValue: string} | {kvlistValue: {values: Attribute[]}};
type OtlpRecord = {
	timeUnixNano: string;
	severityNumber: number;
	severityText: string;
	body: Body;
	attributes: Attribute[];
	traceId: string;
	spanId: string;
};

/** The demo's instrumented services, each with its host and instrumentation scope. */
const services = [
	{service: 'checkout', host: 'checkout-5d8f', scope: 'com.shop.checkout', version: '2.4.1'},
	{service: 'cart', host: 'cart-7b2c', scope: 'cart.handlers', version: '1.9.0'},
	{service: 'frontend', host: 'web-fe-1', scope: 'frontend.http', version: '5.0.3'},
];

const routes = ['/api/cart', '/api/checkout', '/api/products/{id}', '/api/orders/{id}', '/healthz'];

/** Records held while the listener cannot take them; past this the oldest are dropped. */
const maxPending = 10_000;
const postEveryMs = 1000;
/** Records in one request at most, as the OpenTelemetry SDK's batch processor sends them. */
const maxBatch = 512;

function text(value: string): Attribute['value'] {
	return {stringValue: value};
}

function attribute(key: string, value: string | number | boolean): Attribute {
	return {key, value: typeof value === 'string' ? text(value) : typeof value === 'number' ? {intValue: String(value)} : {boolValue: value}};
}

/** The n-th record of a service: mostly requests, now and then a warning, an error or a structured event. */
export function demoOtlpRecord(n: number, now = Date.now()): {service: number; record: OtlpRecord} {
	const service = n % services.length;
	const route = routes[(n * 7) % routes.length]!;
	const method = route.startsWith('/api/checkout') || route === '/api/cart' ? 'POST' : 'GET';
	const status = n % 23 === 0 ? 503 : (n % 11 === 0 ? 404 : 200);
	const ms = 3 + ((n * 37) % 480);
	const attributes = [attribute('http.request.method', method), attribute('http.route', route), attribute('http.response.status_code', status), attribute('user.id', `u-${1000 + ((n * 13) % 500)}`)];
	let severityNumber = 9;
	let body: Body = {stringValue: `${method} ${route} ${status} in ${ms} ms`};
	if (status === 503) {
		severityNumber = 17;
		body = {stringValue: `${method} ${route} failed: upstream payments timed out after ${ms} ms`};
	} else if (status === 404 || ms > 400) {
		severityNumber = 13;
	} else if (n % 5 === 0) {
		// A structured body: logmon shows it as JSON.
		body = {kvlistValue: {values: [attribute('event', 'order.placed'), attribute('order.id', `ord-${70_000 + n}`), attribute('items', 1 + (n % 4)), attribute('paid', n % 2 === 0)]}};
	}

	const severityText = severityNumber === 17 ? 'ERROR' : (severityNumber === 13 ? 'WARN' : 'INFO');
	return {
		service,
		record: {
			timeUnixNano: `${now}000000`,
			severityNumber,
			severityText,
			body,
			attributes,
			traceId: randomBytes(16).toString('hex'),
			spanId: randomBytes(8).toString('hex'),
		},
	};
}

/** One ExportLogsServiceRequest holding `records`, grouped by service. */
export function demoOtlpRequest(records: Array<{service: number; record: OtlpRecord}>): unknown {
	return {
		resourceLogs: services.map((s, i) => ({
			resource: {attributes: [attribute('service.name', s.service), attribute('host.name', s.host), attribute('service.version', s.version), attribute('deployment.environment', 'demo')]},
			scopeLogs: [{scope: {name: s.scope, version: s.version}, logRecords: records.filter(r => r.service === i).map(r => r.record)}],
		})).filter(r => r.scopeLogs[0]!.logRecords.length > 0),
	};
}

export class DemoOtlpPoster {
	/** Batches the listener took, and records it took. */
	posted = 0;
	records = 0;
	private pending: Array<{service: number; record: OtlpRecord}> = [];
	private n = 0;
	private busy = false;
	private holdUntil = 0;
	private readonly agent = new http.Agent({keepAlive: true, maxSockets: 1});
	private readonly timer: NodeJS.Timeout;

	/** `address`: where the listener is, once it listens. */
	constructor(private readonly address: () => {host: string; port: number} | undefined) {
		this.timer = setInterval(() => {
			this.post();
		}, postEveryMs);
		this.timer.unref();
	}

	send(): void {
		this.pending.push(demoOtlpRecord(this.n++));
		if (this.pending.length > maxPending) {
			this.pending.splice(0, this.pending.length - maxPending);
		}
	}

	private post(): void {
		const at = this.address();
		if (this.busy || !at || this.pending.length === 0 || Date.now() < this.holdUntil) {
			return;
		}

		const batch = this.pending.splice(0, maxBatch);
		const body = JSON.stringify(demoOtlpRequest(batch));
		this.busy = true;
		const again = (): void => {
			// Not taken: first in line again, the oldest dropped past the bound.
			this.pending.unshift(...batch);
			this.pending.splice(0, Math.max(0, this.pending.length - maxPending));
		};

		const request = http.request({host: at.host, port: at.port, method: 'POST', path: '/v1/logs', agent: this.agent, headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)}}, response => {
			response.resume();
			response.once('end', () => {
				this.busy = false;
				const status = response.statusCode ?? 0;
				if (status === 429 || status === 503) {
					this.holdUntil = Date.now() + (1000 * (Number(response.headers['retry-after']) || 1));
					again();
					return;
				}

				// Taken, or refused for good (400, 413): either way not sent again.
				if (status === 200) {
					this.posted++;
					this.records += batch.length;
				}

				// At high --demo-rate, more than a batch a second: the next one at once.
				if (this.pending.length >= maxBatch) {
					this.post();
				}
			});
		});
		request.once('error', () => {
			// The listener is stopping or failed (its health says why): try again next time.
			this.busy = false;
			again();
		});
		request.end(body);
	}

	stop(): void {
		clearInterval(this.timer);
		this.agent.destroy();
	}
}
