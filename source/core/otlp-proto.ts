import {
	type OtlpLimits, type OtlpLogRecord, type OtlpObject, type OtlpRequest, type OtlpResourceLogs, type OtlpScopeLogs, type OtlpValue,
	OtlpDecodeError, OtlpTooManyRecords, PartBudget, emptyRecord, nanosToMs, newObject, setKey, tooDeep,
} from './otlp-map.js';

// A protobuf wire decoder for ExportLogsServiceRequest (OTLP logs), written from the field
// numbers of opentelemetry-proto v1.x, and the encoder of the google.rpc.Status error reply.
// Only what logs need is read; unknown fields are skipped, as protobuf requires.
//
//   ExportLogsServiceRequest {1 resource_logs}
//   ResourceLogs {1 resource, 2 scope_logs}            Resource {1 attributes}
//   ScopeLogs {1 scope, 2 log_records}                 InstrumentationScope {1 name, 2 version, 3 attributes}
//   LogRecord {1 time_unix_nano fixed64, 2 severity_number, 3 severity_text, 5 body, 6 attributes,
//              8 flags fixed32, 9 trace_id, 10 span_id, 11 observed_time_unix_nano fixed64, 12 event_name}
//   KeyValue {1 key, 2 value}   AnyValue {1 string, 2 bool, 3 int64, 4 double, 5 array, 6 kvlist, 7 bytes}
//   ArrayValue {1 values}       KeyValueList {1 values}
//
// Input is untrusted: every length is checked against what is left, nesting of values is
// bounded (deeper parts become a marker), and any malformation is an OtlpDecodeError.

const varint = 0;
const i64 = 1;
const len = 2;
const i32 = 5;
const startGroup = 3;
const endGroup = 4;
/** Groups inside groups: no sender has a reason to nest many. */
const maxGroupDepth = 100;

class Reader {
	pos: number;

	constructor(readonly buf: Buffer, from: number, readonly end: number) {
		this.pos = from;
	}

	get done(): boolean {
		return this.pos >= this.end;
	}

	/** A varint of up to 64 bits as a number (exact below 2^53: lengths, tags, enums). */
	varint(): number {
		let result = 0;
		let factor = 1;
		for (let i = 0; i < 10; i++) {
			if (this.pos >= this.end) {
				throw new OtlpDecodeError('truncated varint');
			}

			const b = this.buf[this.pos++]!;
			result += (b & 0x7F) * factor;
			if (b < 0x80) {
				return result;
			}

			factor *= 128;
		}

		throw new OtlpDecodeError('varint longer than 10 bytes');
	}

	/** A varint as the low and high 32 bits (two's complement for negative int64). */
	varint64(): [number, number] {
		let lo = 0;
		let hi = 0;
		for (let i = 0; i < 10; i++) {
			if (this.pos >= this.end) {
				throw new OtlpDecodeError('truncated varint');
			}

			const b = this.buf[this.pos++]!;
			const bits = b & 0x7F;
			const shift = i * 7;
			if (shift < 28) {
				lo |= bits << shift;
			} else if (shift === 28) {
				lo |= (bits & 0x0F) << 28;
				hi |= bits >>> 4;
			} else {
				hi |= bits << (shift - 32);
			}

			if (b < 0x80) {
				return [lo >>> 0, hi >>> 0];
			}
		}

		throw new OtlpDecodeError('varint longer than 10 bytes');
	}

	fixed32(): number {
		if (this.pos + 4 > this.end) {
			throw new OtlpDecodeError('truncated fixed32');
		}

		const b = this.buf;
		const p = this.pos;
		this.pos += 4;
		return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + (b[p + 3]! * 0x1_00_00_00);
	}

	double(): number {
		if (this.pos + 8 > this.end) {
			throw new OtlpDecodeError('truncated double');
		}

		const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
		this.pos += 8;
		return view.getFloat64(0, true);
	}

	/** A length-delimited field: where its bytes start and end. */
	bytes(): [number, number] {
		const n = this.varint();
		const start = this.pos;
		if (n > this.end - start) {
			throw new OtlpDecodeError(`a field of ${n} bytes where ${this.end - start} are left`);
		}

		this.pos = start + n;
		return [start, start + n];
	}

	/** UTF-8 text; invalid sequences become U+FFFD, as protobuf-js and the JSON mapping read them. */
	string(): string {
		const [start, end] = this.bytes();
		return this.buf.toString('utf8', start, end);
	}

	/** A sub-reader over a length-delimited field. */
	message(): Reader {
		const [start, end] = this.bytes();
		return new Reader(this.buf, start, end);
	}

	/** Skip a field of an unknown number: `no` and `wire` are its tag's parts. */
	skip(wire: number, no: number): void {
		switch (wire) {
			case varint: {
				this.varint();
				break;
			}

			case i64: {
				this.advance(8);
				break;
			}

			case len: {
				this.bytes();
				break;
			}

			case i32: {
				this.advance(4);
				break;
			}

			case startGroup: {
				this.skipGroup(no);
				break;
			}

			default: {
				throw new OtlpDecodeError(`wire type ${wire} is not supported`);
			}
		}
	}

	/**
	 * A group (proto2's deprecated wire types 3 and 4), as protobuf readers skip one: every field up
	 * to the end tag of the same number, groups nested in it too, without recursion.
	 */
	private skipGroup(no: number): void {
		const open = [no];
		while (open.length > 0) {
			if (this.done) {
				throw new OtlpDecodeError(`group ${open.at(-1)!} has no end`);
			}

			const tag = this.varint();
			const inner = Math.floor(tag / 8);
			const wire = tag & 7;
			if (wire === endGroup) {
				if (inner !== open.pop()) {
					throw new OtlpDecodeError(`group ${no} ends with the end of group ${inner}`);
				}
			} else if (wire === startGroup) {
				if (open.length >= maxGroupDepth) {
					throw new OtlpDecodeError(`groups nested more than ${maxGroupDepth} deep`);
				}

				open.push(inner);
			} else {
				this.skip(wire, inner);
			}
		}
	}

	private advance(n: number): void {
		if (this.pos + n > this.end) {
			throw new OtlpDecodeError('truncated field');
		}

		this.pos += n;
	}
}

/** Reads each field's tag and hands it to `field`, which must consume it (or return false to skip it). */
function fields(r: Reader, message: string, field: (no: number, wire: number) => boolean): void {
	while (!r.done) {
		const tag = r.varint();
		const no = Math.floor(tag / 8);
		const wire = tag & 7;
		if (no === 0) {
			throw new OtlpDecodeError(`field number 0 in ${message}`);
		}

		if (!field(no, wire)) {
			r.skip(wire, no);
		}
	}
}

function expect(wire: number, want: number, message: string, no: number): void {
	if (wire !== want) {
		throw new OtlpDecodeError(`field ${no} of ${message} has wire type ${wire}, expected ${want}`);
	}
}

/** An int64 as a number when exact, else its decimal text. */
function int64(lo: number, hi: number): number | string {
	const negative = hi >= 0x80_00_00_00;
	if (!negative && hi < 0x20_00_00) {
		return (hi * 0x1_00_00_00_00) + lo;
	}

	const big = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
	return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
}

function hex(buf: Buffer, start: number, end: number): string {
	let zero = true;
	for (let i = start; i < end; i++) {
		if (buf[i] !== 0) {
			zero = false;
			break;
		}
	}

	return zero ? '' : buf.toString('hex', start, end);
}

class Decoder {
	records = 0;

	private readonly budget: PartBudget;

	constructor(private readonly limits: OtlpLimits, private readonly problem: (reason: string) => void) {
		this.budget = new PartBudget(limits);
	}

	request(r: Reader): OtlpRequest {
		const resources: OtlpResourceLogs[] = [];
		fields(r, 'ExportLogsServiceRequest', (no, wire) => {
			if (no !== 1) {
				return false;
			}

			expect(wire, len, 'ExportLogsServiceRequest', no);
			resources.push(this.resourceLogs(r.message()));
			return true;
		});
		return {resources, records: this.records};
	}

	private resourceLogs(r: Reader): OtlpResourceLogs {
		this.budget.take();
		const out: OtlpResourceLogs = {attributes: newObject(), scopes: []};
		fields(r, 'ResourceLogs', (no, wire) => {
			if (no === 1) {
				expect(wire, len, 'ResourceLogs', no);
				const resource = r.message();
				fields(resource, 'Resource', (rno, rwire) => {
					if (rno !== 1) {
						return false;
					}

					expect(rwire, len, 'Resource', rno);
					this.keyValue(resource.message(), out.attributes, 0);
					return true;
				});
				return true;
			}

			if (no === 2) {
				expect(wire, len, 'ResourceLogs', no);
				out.scopes.push(this.scopeLogs(r.message()));
				return true;
			}

			return false;
		});
		return out;
	}

	private scopeLogs(r: Reader): OtlpScopeLogs {
		this.budget.take();
		const out: OtlpScopeLogs = {name: '', version: '', attributes: newObject(), records: []};
		fields(r, 'ScopeLogs', (no, wire) => {
			if (no === 1) {
				expect(wire, len, 'ScopeLogs', no);
				this.scope(r.message(), out);
				return true;
			}

			if (no === 2) {
				expect(wire, len, 'ScopeLogs', no);
				if (++this.records > this.limits.maxRecords) {
					throw new OtlpTooManyRecords(`more than ${this.limits.maxRecords} log records in one request`);
				}

				out.records.push(this.logRecord(r.message()));
				return true;
			}

			return false;
		});
		return out;
	}

	private scope(r: Reader, out: OtlpScopeLogs): void {
		fields(r, 'InstrumentationScope', (no, wire) => {
			if (no === 1 || no === 2) {
				expect(wire, len, 'InstrumentationScope', no);
				out[no === 1 ? 'name' : 'version'] = r.string();
				return true;
			}

			if (no === 3) {
				expect(wire, len, 'InstrumentationScope', no);
				this.keyValue(r.message(), out.attributes, 0);
				return true;
			}

			return false;
		});
	}

	private logRecord(r: Reader): OtlpLogRecord {
		this.budget.take();
		const out = emptyRecord();
		const m = 'LogRecord';
		fields(r, m, (no, wire) => {
			switch (no) {
				case 1:
				case 11: {
					expect(wire, i64, m, no);
					const lo = r.fixed32();
					const ms = nanosToMs(lo, r.fixed32());
					if (no === 1) {
						out.timeMs = ms;
					} else {
						out.observedMs = ms;
					}

					return true;
				}

				case 2: {
					expect(wire, varint, m, no);
					out.severityNumber = r.varint64()[0] | 0;
					return true;
				}

				case 3:
				case 12: {
					expect(wire, len, m, no);
					out[no === 3 ? 'severityText' : 'eventName'] = r.string();
					return true;
				}

				case 5: {
					expect(wire, len, m, no);
					out.body = this.anyValue(r.message(), 0);
					return true;
				}

				case 6: {
					expect(wire, len, m, no);
					this.keyValue(r.message(), out.attributes, 0);
					return true;
				}

				case 8: {
					expect(wire, i32, m, no);
					out.flags = r.fixed32();
					return true;
				}

				case 9:
				case 10: {
					expect(wire, len, m, no);
					const [start, end] = r.bytes();
					const want = no === 9 ? 16 : 8;
					const id = no === 9 ? 'trace_id' : 'span_id';
					if (end - start === want) {
						out[no === 9 ? 'traceId' : 'spanId'] = hex(r.buf, start, end);
					} else if (end > start) {
						this.problem(`a log record's ${id} of ${end - start} bytes (expected ${want}) was left out`);
					}

					return true;
				}

				default: {
					return false;
				}
			}
		});
		return out;
	}

	/** A KeyValue into `into`; a repeated key keeps the last value, as maps do. */
	private keyValue(r: Reader, into: OtlpObject, depth: number): void {
		this.budget.take();
		let key = '';
		let value: OtlpValue = null;
		fields(r, 'KeyValue', (no, wire) => {
			if (no === 1) {
				expect(wire, len, 'KeyValue', no);
				key = r.string();
				return true;
			}

			if (no === 2) {
				expect(wire, len, 'KeyValue', no);
				value = this.anyValue(r.message(), depth);
				return true;
			}

			return false;
		});
		setKey(into, key, value);
	}

	private anyValue(r: Reader, depth: number): OtlpValue {
		let value: OtlpValue = null;
		const m = 'AnyValue';
		fields(r, m, (no, wire) => {
			switch (no) {
				case 1: {
					expect(wire, len, m, no);
					value = r.string();
					return true;
				}

				case 2: {
					expect(wire, varint, m, no);
					value = r.varint() !== 0;
					return true;
				}

				case 3: {
					expect(wire, varint, m, no);
					const [lo, hi] = r.varint64();
					value = int64(lo, hi);
					return true;
				}

				case 4: {
					expect(wire, i64, m, no);
					const d = r.double();
					// JSON has no NaN or Infinity: their names, as the OTLP JSON mapping writes them.
					value = Number.isFinite(d) ? d : String(d);
					return true;
				}

				case 5:
				case 6: {
					expect(wire, len, m, no);
					const inner = r.message();
					if (depth >= this.limits.maxDepth) {
						this.problem(`a value nested deeper than ${this.limits.maxDepth} levels was replaced by "${tooDeep}"`);
						value = tooDeep;
						return true;
					}

					value = no === 5 ? this.arrayValue(inner, depth + 1) : this.kvList(inner, depth + 1);
					return true;
				}

				case 7: {
					expect(wire, len, m, no);
					const [start, end] = r.bytes();
					value = r.buf.toString('base64', start, end);
					return true;
				}

				default: {
					return false;
				}
			}
		});
		return value;
	}

	private arrayValue(r: Reader, depth: number): OtlpValue[] {
		const out: OtlpValue[] = [];
		fields(r, 'ArrayValue', (no, wire) => {
			if (no !== 1) {
				return false;
			}

			expect(wire, len, 'ArrayValue', no);
			this.budget.take();
			out.push(this.anyValue(r.message(), depth));
			return true;
		});
		return out;
	}

	private kvList(r: Reader, depth: number): OtlpObject {
		const out = newObject();
		fields(r, 'KeyValueList', (no, wire) => {
			if (no !== 1) {
				return false;
			}

			expect(wire, len, 'KeyValueList', no);
			this.keyValue(r.message(), out, depth);
			return true;
		});
		return out;
	}
}

/** Decode a protobuf ExportLogsServiceRequest. Throws OtlpDecodeError or OtlpTooManyRecords. */
export function decodeLogsProto(body: Uint8Array, limits: OtlpLimits, problem: (reason: string) => void): OtlpRequest {
	const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
	return new Decoder(limits, problem).request(new Reader(buf, 0, buf.length));
}

// --- Encoding: only the error reply, google.rpc.Status {1 code int32, 2 message string}.

function writeVarint(out: number[], n: number): void {
	while (n >= 0x80) {
		out.push((n & 0x7F) | 0x80);
		n = Math.floor(n / 128);
	}

	out.push(n);
}

/** google.rpc.Status as protobuf. */
export function encodeStatus(code: number, message: string): Uint8Array {
	const text = Buffer.from(message, 'utf8');
	const head: number[] = [];
	if (code !== 0) {
		head.push(0x08);
		writeVarint(head, code);
	}

	head.push(0x12);
	writeVarint(head, text.length);
	return Buffer.concat([Buffer.from(head), text]);
}
