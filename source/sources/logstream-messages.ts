import {isUtf8} from 'node:buffer';
import {type LogstreamAuth} from '../config/logstream.js';
import {depthReason, parseJsonBounded} from '../core/json-depth.js';
import {parseJsonObject} from '../core/record.js';
import {oneLine} from './net-error.js';

// The logstream wire messages (protocols.md §1.2): a frame checked and parsed
// into a JSON object, each server message's fields checked, and the client's
// messages built. Everything here is untrusted input: a bad message comes back
// as the reason to skip it, never as a throw.

export type Json = Record<string, unknown>;

/** A short quoted excerpt of untrusted text, for parse-error reasons. */
export function preview(text: string): string {
	return JSON.stringify(oneLine(text, 60));
}

/** Why a frame is skipped before it is even read as text, or undefined when it is UTF-8 text. */
export function unreadableFrame(data: Buffer, isBinary: boolean): {problem: string; trace: string} | undefined {
	if (isBinary) {
		return {problem: `binary frame of ${data.length} bytes skipped; logstream sends JSON text`, trace: `<- (binary frame, ${data.length} bytes)`};
	}

	if (!isUtf8(data)) {
		return {problem: `text frame of ${data.length} bytes is not valid UTF-8; skipped`, trace: `<- (text frame with invalid UTF-8, ${data.length} bytes)`};
	}

	return undefined;
}

/** The frame's JSON object, or (a string) why it is skipped. `cut` hears of parts nested too deep, kept as text. */
export function parseFrame(text: string, cut?: (why: string) => void): Json | string {
	let msg: unknown;
	try {
		const bounded = parseJsonBounded(text);
		msg = bounded.value;
		if (bounded.cut) {
			cut?.(`frame with ${depthReason}`);
		}
	} catch {
		return `frame is not JSON: ${preview(text)}`;
	}

	if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
		return `frame is not a JSON object: ${preview(text)}`;
	}

	return msg as Json;
}

/** Every server message but `line`, which is read on its own hot path (logstream-lines.ts). */
export type ServerMessage =
	| {cmd: 'connected'; server: string}
	| {cmd: 'available'; server: string; type: string; display: string | undefined}
	| {cmd: 'success'; keepalive: boolean; request: ToggleRequest | undefined}
	| {cmd: 'error'; server: string; description: string; code: string | number | undefined; request: Json | undefined}
	| {cmd: 'enabled'; server: string; types: string[]};

/** The enable or disable a `success` acknowledges. */
export type ToggleRequest = {cmd: 'enable' | 'disable'; server: string; type: string};

/** A non-line message with its fields checked, or (a string) why it is skipped. */
export function readMessage(m: Json, text: string): ServerMessage | string {
	const cmd = m['cmd'];
	switch (cmd) {
		case 'connected': {
			const server = m['server'];
			return typeof server === 'string' ? {cmd, server} : '"connected" without a server name; skipped';
		}

		case 'available': {
			const server = m['server'];
			const type = m['type'];
			const display = m['display_type'];
			if (typeof server !== 'string' || typeof type !== 'string') {
				return '"available" without a server or type; skipped';
			}

			return {cmd, server, type, display: typeof display === 'string' ? display : undefined};
		}

		case 'success': {
			return readSuccess(m);
		}

		case 'error': {
			return readError(m);
		}

		case 'enabled': {
			const server = m['server'];
			const list = m['enabled'];
			if (typeof server !== 'string' || !Array.isArray(list) || !list.every(t => typeof t === 'string')) {
				return '"enabled" without a server or a list of types; skipped';
			}

			return {cmd, server, types: list as string[]};
		}

		case undefined: {
			return `frame has no "cmd": ${preview(text)}`;
		}

		default: {
			return `unknown cmd ${preview(typeof cmd === 'string' ? cmd : JSON.stringify(cmd))}`;
		}
	}
}

/** `msg` echoes the request; the server's idle keepalive is a success too. Anything else is ignored, not an error. */
function readSuccess(m: Json): ServerMessage {
	const request = m['msg'];
	const r = request !== null && typeof request === 'object' ? request as Json : undefined;
	if (r?.['cmd'] === 'keepalive') {
		return {cmd: 'success', keepalive: true, request: undefined};
	}

	const cmd = r?.['cmd'];
	const type = r?.['type'];
	const server = typeof r?.['server'] === 'string' ? r['server'] : m['server'];
	const known = (cmd === 'enable' || cmd === 'disable') && typeof type === 'string' && typeof server === 'string';
	return {cmd: 'success', keepalive: false, request: known ? {cmd, server, type} : undefined};
}

function readError(m: Json): ServerMessage {
	const server = typeof m['server'] === 'string' ? m['server'] : '(no server)';
	const description = typeof m['description'] === 'string' ? m['description'] : '(no description)';
	const code = typeof m['code'] === 'number' || typeof m['code'] === 'string' ? m['code'] : undefined;
	// `during` is the request that failed, as a JSON string.
	let request: Json | undefined;
	const raw = m['during'];
	if (typeof raw === 'string') {
		request = parseJsonObject(raw);
	} else if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
		request = raw as Json;
	}

	return {cmd: 'error', server, description, code, request};
}

// --- client messages ------------------------------------------------------

export function streamEnvironment(auth: LogstreamAuth): Json {
	const {site, env, t, d} = auth;
	return {cmd: 'stream-environment', site, env, t, d};
}

export function toggleRequest(on: boolean, server: string, type: string): Json {
	return {cmd: on ? 'enable' : 'disable', type, server};
}

export function listRequest(cmd: 'list-available' | 'list-enabled', server: string | undefined): Json {
	return server === undefined ? {cmd} : {cmd, server};
}
