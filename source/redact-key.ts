import {createHmac, randomBytes} from 'node:crypto';
import {chmodSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import path from 'node:path';
import {type Redactor, compileRedaction} from './core/redact.js';
import {type RedactSettings} from './settings.js';

// The I/O half of redaction: the key of hash mode, and the stage put on the bus. The key is
// redact.key from the config (`${ENV}` works there), or one made once into
// $XDG_STATE_HOME/logmon/redact.key (directory 0700, file 0600) and read on every later start, so
// a value gets the same pseudonym across restarts.

export class RedactKeyError extends Error {}

export function redactKeyFile(env: NodeJS.ProcessEnv = process.env): string {
	const base = env['XDG_STATE_HOME'] && path.isAbsolute(env['XDG_STATE_HOME']) ? env['XDG_STATE_HOME'] : path.join(homedir(), '.local', 'state');
	return path.join(base, 'logmon', 'redact.key');
}

export type RedactKey = {key: string; file?: string; warning?: string};

function readKey(file: string): RedactKey {
	const key = readFileSync(file, 'utf8').trim();
	if (key.length < 32) {
		throw new RedactKeyError(`${file}: the redaction key is too short (${key.length} characters); delete the file to make a new one, or set redact.key`);
	}

	const mode = statSync(file).mode & 0o777;
	const warning = (mode & 0o077) === 0 ? undefined : `${file} can be read by others (mode ${mode.toString(8)}); chmod 600 it`;
	return {key, file, warning};
}

/** The configured key, or the one in the state directory, made on first use. */
export function loadRedactKey(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): RedactKey {
	if (configured !== undefined) {
		return {key: configured};
	}

	const file = redactKeyFile(env);
	try {
		return readKey(file);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
			throw error instanceof RedactKeyError ? error : new RedactKeyError(`${file}: cannot read the redaction key: ${(error as Error).message}`);
		}
	}

	try {
		const dir = path.dirname(file);
		mkdirSync(dir, {recursive: true, mode: 0o700});
		chmodSync(dir, 0o700);
		// `wx`: two logmons starting at once do not both write; the second reads the first's key.
		writeFileSync(file, randomBytes(32).toString('hex') + '\n', {mode: 0o600, flag: 'wx'});
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
			throw new RedactKeyError(`${file}: cannot make a redaction key: ${(error as Error).message}; set redact.key in the config instead`);
		}
	}

	return readKey(file);
}

/** HMAC-SHA256 of a value with the key, 10 hex digits: short, stable, unreadable without the key. */
export function pseudonymizer(key: string): (value: string) => string {
	return value => createHmac('sha256', key).update(value).digest('hex').slice(0, 10);
}

export type RedactorDeps = {
	/** Told of the key, so that no message logmon shows can carry it. */
	secret: (value: string) => void;
	/** A key file others can read. */
	warn: (text: string) => void;
	env?: NodeJS.ProcessEnv;
};

/** The redaction stage the settings describe, or undefined when redaction is off. Throws RedactKeyError. */
export function createRedactor(settings: RedactSettings, deps: RedactorDeps): Redactor | undefined {
	if (!settings.enabled) {
		return undefined;
	}

	let pseudonym: ((value: string) => string) | undefined;
	if (settings.mode === 'hash') {
		const {key, warning} = loadRedactKey(settings.key, deps.env);
		deps.secret(key);
		if (warning) {
			deps.warn(warning);
		}

		pseudonym = pseudonymizer(key);
	}

	return compileRedaction(settings, pseudonym);
}

/**
 * What logmon says of what it read (a record's unreadable time, a peer's answer) passes the
 * rules too: a scrub for the diagnostics, masking only, compiled when first needed, apart from
 * the stage's redactor and its counts. Undefined with redaction off.
 */
export function diagnosticScrub(settings: RedactSettings): ((text: string) => string) | undefined {
	if (!settings.enabled) {
		return undefined;
	}

	let redactor: Redactor | undefined;
	return text => (redactor ??= compileRedaction({...settings, mode: 'mask'})).redactLine(text);
}
