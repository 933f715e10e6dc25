import {
	type OtlpLimits, type OtlpLogRecord, type OtlpObject, type OtlpRequest, type OtlpResourceLogs, type OtlpScopeLogs, type OtlpValue,
	OtlpDecodeError, OtlpTooManyRecords, PartBudget, emptyRecord, newObject, setKey, tooDeep,
} from './otlp-map.js';

// The OTLP/HTTP JSON encoding of ExportLogsServiceRequest: the protobuf JSON mapping with
// lowerCamelCase keys (the proto names, snake_case, are read too), int64 as a string or a
// number, enums as integers or their names, trace and span ids in hex (not base64), bytes
// in base64. Unknown keys are ignored.
//
// A container of the wrong shape (resourceLogs not an array, a record not an object) makes
// the request unreadable: 400. A scalar of the wrong type is counted and left out.

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
	return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function kindOf(v: unknown): string {
	return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** The value under the lowerCamelCase key, else the proto field name. */
function get(o: Json, camel: string, snake?: string): unknown {
	const v = o[camel];
	return v === undefined && snake !== undefined ? o[snake] : v;
}

function list(o: Json, camel: string, snake: string | undefined, where: string): unknown[] {
	const v = get(o, camel, snake);
	if (v === undefined || v === null) {
		return [];
	}

	if (!Array.isArray(v)) {
		throw new OtlpDecodeError(`${where}.${camel} must be an array, got ${kindOf(v)}`);
	}

	return v;
}

function object(v: unknown, where: string): Json {
	if (!isObject(v)) {
		throw new OtlpDecodeError(`${where} must be an object, got ${kindOf(v)}`);
	}

	return v;
}

// SeverityNumber names: SEVERITY_NUMBER_TRACE = 1 ... SEVERITY_NUMBER_FATAL4 = 24.
const severityNames = new Map<string, number>(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((base, i) => [
	[`SEVERITY_NUMBER_${base}`, (i * 4) + 1],
	[`SEVERITY_NUMBER_${base}2`, (i * 4) + 2],
	[`SEVERITY_NUMBER_${base}3`, (i * 4) + 3],
	[`SEVERITY_NUMBER_${base}4`, (i * 4) + 4],
]));
severityNames.set('SEVERITY_NUMBER_UNSPECIFIED', 0);

const hex32 = /^[\da-f]{32}$/i;
const hex16 = /^[\da-f]{16}$/i;
const allZero = /^0+$/;
const decimal = /^-?\d{1,20}$/;

class JsonDecoder {
	records = 0;

	private readonly budget: PartBudget;

	constructor(private readonly limits: OtlpLimits, private readonly problem: (reason: string) => void) {
		this.budget = new PartBudget(limits);
	}

	request(v: unknown): OtlpRequest {
		const top = object(v, 'the request');
		const resources = list(top, 'resourceLogs', 'resource_logs', 'request').map((r, i) => this.resourceLogs(object(r, `resourceLogs[${i}]`), `resourceLogs[${i}]`));
		return {resources, records: this.records};
	}

	private resourceLogs(o: Json, where: string): OtlpResourceLogs {
		this.budget.take();
		const resource = get(o, 'resource');
		const attributes = resource === undefined || resource === null ? newObject() : this.attributes(object(resource, `${where}.resource`), `${where}.resource`, 0);
		const scopes = list(o, 'scopeLogs', 'scope_logs', where).map((s, i) => this.scopeLogs(object(s, `${where}.scopeLogs[${i}]`), `${where}.scopeLogs[${i}]`));
		return {attributes, scopes};
	}

	private scopeLogs(o: Json, where: string): OtlpScopeLogs {
		this.budget.take();
		const out: OtlpScopeLogs = {name: '', version: '', attributes: newObject(), records: []};
		const scope = get(o, 'scope');
		if (scope !== undefined && scope !== null) {
			const s = object(scope, `${where}.scope`);
			out.name = this.string(get(s, 'name'), `${where}.scope.name`);
			out.version = this.string(get(s, 'version'), `${where}.scope.version`);
			out.attributes = this.attributes(s, `${where}.scope`, 0);
		}

		const records = list(o, 'logRecords', 'log_records', where);
		if (this.records + records.length > this.limits.maxRecords) {
			throw new OtlpTooManyRecords(`more than ${this.limits.maxRecords} log records in one request`);
		}

		this.records += records.length;
		this.budget.take(records.length);
		out.records = records.map((r, i) => this.logRecord(object(r, `${where}.logRecords[${i}]`), `${where}.logRecords[${i}]`));
		return out;
	}

	private logRecord(o: Json, where: string): OtlpLogRecord {
		const out = emptyRecord();
		out.timeMs = this.nanos(get(o, 'timeUnixNano', 'time_unix_nano'), `${where}.timeUnixNano`);
		out.observedMs = this.nanos(get(o, 'observedTimeUnixNano', 'observed_time_unix_nano'), `${where}.observedTimeUnixNano`);
		out.severityNumber = this.severity(get(o, 'severityNumber', 'severity_number'), `${where}.severityNumber`);
		out.severityText = this.string(get(o, 'severityText', 'severity_text'), `${where}.severityText`);
		out.eventName = this.string(get(o, 'eventName', 'event_name'), `${where}.eventName`);
		const body = get(o, 'body');
		out.body = body === undefined || body === null ? undefined : this.anyValue(body, `${where}.body`, 0);
		out.attributes = this.attributes(o, where, 0);
		out.traceId = this.id(get(o, 'traceId', 'trace_id'), hex32, `${where}.traceId`);
		out.spanId = this.id(get(o, 'spanId', 'span_id'), hex16, `${where}.spanId`);
		const flags = get(o, 'flags');
		if (typeof flags === 'number' && Number.isInteger(flags) && flags >= 0 && flags <= 0xFF_FF_FF_FF) {
			out.flags = flags;
		} else if (flags !== undefined && flags !== null) {
			this.problem(`${where}.flags: expected an unsigned 32-bit integer, got ${kindOf(flags)}`);
		}

		return out;
	}

	private string(v: unknown, where: string): string {
		if (typeof v === 'string') {
			return v;
		}

		if (v !== undefined && v !== null) {
			this.problem(`${where}: expected a string, got ${kindOf(v)}`);
		}

		return '';
	}

	/** int64 nanoseconds as a decimal string or a number, to ms; undefined for 0 or absent. */
	private nanos(v: unknown, where: string): number | undefined {
		let ms: number | undefined;
		if (typeof v === 'string' && /^\d{1,20}$/.test(v)) {
			// Whole ms from the digits themselves: exact where a Number of ns would not be.
			ms = v.length > 6 ? Number(v.slice(0, -6)) : 0;
		} else if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
			ms = Math.floor(v / 1e6);
		} else if (v !== undefined && v !== null) {
			this.problem(`${where}: expected nanoseconds as a decimal string, got ${JSON.stringify(String(v).slice(0, 40))}`);
			return undefined;
		}

		// 0 means unset; so does anything in the epoch's first ms, which no real log is from.
		return ms === 0 ? undefined : ms;
	}

	private severity(v: unknown, where: string): number {
		if (typeof v === 'number' && Number.isInteger(v)) {
			return v;
		}

		if (typeof v === 'string') {
			const named = severityNames.get(v);
			if (named !== undefined) {
				return named;
			}

			if (/^\d{1,3}$/.test(v)) {
				return Number(v);
			}
		}

		if (v !== undefined && v !== null) {
			this.problem(`${where}: not a severity number: ${JSON.stringify(String(v).slice(0, 40))}`);
		}

		return 0;
	}

	private id(v: unknown, shape: RegExp, where: string): string {
		if (v === undefined || v === null || v === '') {
			return '';
		}

		if (typeof v === 'string' && shape.test(v)) {
			return allZero.test(v) ? '' : v.toLowerCase();
		}

		this.problem(`${where}: expected ${shape === hex32 ? 32 : 16} hex digits; left out`);
		return '';
	}

	/** The `attributes` list of KeyValues in `o`, as an object; a repeated key keeps the last value. */
	private attributes(o: Json, where: string, depth: number): OtlpObject {
		return this.keyValues(list(o, 'attributes', undefined, where), `${where}.attributes`, depth);
	}

	private keyValues(items: unknown[], where: string, depth: number): OtlpObject {
		const out = newObject();
		this.budget.take(items.length);
		for (const [i, item] of items.entries()) {
			if (!isObject(item)) {
				this.problem(`${where}[${i}]: expected a {"key","value"} object, got ${kindOf(item)}`);
				continue;
			}

			const key = typeof item['key'] === 'string' ? item['key'] : '';
			const value = item['value'];
			setKey(out, key, value === undefined || value === null ? null : this.anyValue(value, `${where}[${i}].value`, depth));
		}

		return out;
	}

	private anyValue(v: unknown, where: string, depth: number): OtlpValue {
		if (!isObject(v)) {
			this.problem(`${where}: expected an AnyValue object, got ${kindOf(v)}`);
			return null;
		}

		if ('stringValue' in v || 'string_value' in v) {
			return this.string(get(v, 'stringValue', 'string_value'), where);
		}

		if ('boolValue' in v || 'bool_value' in v) {
			const b = get(v, 'boolValue', 'bool_value');
			return typeof b === 'boolean' ? b : this.bad(where, 'a boolean', b);
		}

		if ('intValue' in v || 'int_value' in v) {
			const n = get(v, 'intValue', 'int_value');
			if (typeof n === 'number' && Number.isInteger(n)) {
				return n;
			}

			if (typeof n === 'string' && decimal.test(n)) {
				const x = Number(n);
				return Number.isSafeInteger(x) ? x : n;
			}

			return this.bad(where, 'an integer', n);
		}

		if ('doubleValue' in v || 'double_value' in v) {
			const d = get(v, 'doubleValue', 'double_value');
			if (typeof d === 'number') {
				return d;
			}

			if (d === 'NaN' || d === 'Infinity' || d === '-Infinity') {
				return d;
			}

			return typeof d === 'string' && d.trim() !== '' && Number.isFinite(Number(d)) ? Number(d) : this.bad(where, 'a number', d);
		}

		if ('bytesValue' in v || 'bytes_value' in v) {
			const b = get(v, 'bytesValue', 'bytes_value');
			return typeof b === 'string' ? b : this.bad(where, 'base64 text', b);
		}

		const array = get(v, 'arrayValue', 'array_value');
		const kv = get(v, 'kvlistValue', 'kvlist_value');
		if (array === undefined && kv === undefined) {
			// An empty AnyValue: no value set.
			return null;
		}

		if (depth >= this.limits.maxDepth) {
			this.problem(`${where}: a value nested deeper than ${this.limits.maxDepth} levels was replaced by "${tooDeep}"`);
			return tooDeep;
		}

		if (array !== undefined) {
			if (!isObject(array)) {
				return this.bad(where, 'an arrayValue object', array);
			}

			const values = array['values'];
			if (values !== undefined && !Array.isArray(values)) {
				return this.bad(where, 'arrayValue.values to be an array', values);
			}

			this.budget.take(values?.length ?? 0);
			return (values ?? []).map((item, i) => item === null ? null : this.anyValue(item, `${where}.arrayValue.values[${i}]`, depth + 1));
		}

		if (!isObject(kv)) {
			return this.bad(where, 'a kvlistValue object', kv);
		}

		const values = kv['values'];
		if (values !== undefined && !Array.isArray(values)) {
			return this.bad(where, 'kvlistValue.values to be an array', values);
		}

		return this.keyValues(values ?? [], `${where}.kvlistValue.values`, depth + 1);
	}

	private bad(where: string, expected: string, got: unknown): null {
		this.problem(`${where}: expected ${expected}, got ${kindOf(got)}`);
		return null;
	}
}

/** Decode a JSON ExportLogsServiceRequest. Throws OtlpDecodeError or OtlpTooManyRecords. */
export function decodeLogsJson(text: string, limits: OtlpLimits, problem: (reason: string) => void): OtlpRequest {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		throw new OtlpDecodeError(`not JSON: ${(error as Error).message.slice(0, 200)}`);
	}

	return new JsonDecoder(limits, problem).request(value);
}
