import {type Flags, colorMode} from './cli.js';
import {colorModes} from './config/choices.js';
import {ConfigError} from './config/errors.js';
import {readConfig} from './config/read.js';
import {FilterError} from './core/filter.js';
import {failUsage as fail} from './exit.js';
import {createRedactor, RedactKeyError} from './redact-key.js';
import {resolveRedaction, UsageError} from './settings.js';
import {colorLevel} from './sinks/format.js';

// `logmon redact --test`, loaded by main.ts only for that command.

/** `logmon redact --test`: stdin lines as the redaction stage leaves them. */
export async function redactCommand(flags: Flags, input: string[], stderr: NodeJS.WritableStream, env: NodeJS.ProcessEnv): Promise<number> {
	if (!flags.test || input.length > 1) {
		return fail(stderr, 'redact: usage: logmon redact --test [--redact-rule NAME=REGEX …] < lines');
	}

	let redactor;
	try {
		const {config, file} = await readConfig(flags.config, env);
		const redact = await resolveRedaction(flags, config, file);
		redactor = createRedactor(redact, {secret() {/* nothing is shown but the lines */}, warn: text => stderr.write(`logmon: ${text}\n`), env});
	} catch (error) {
		if (error instanceof ConfigError || error instanceof FilterError || error instanceof UsageError || error instanceof RedactKeyError) {
			return fail(stderr, error.message);
		}

		throw error;
	}

	const color = colorModes.find(m => m === (colorMode(flags) ?? 'auto'));
	if (!color) {
		return fail(stderr, `--color: expected one of ${colorModes.join(', ')}, got ${JSON.stringify(colorMode(flags))}`);
	}

	const {runRedactTest} = await import('./redact-test.js');
	return runRedactTest(redactor, {
		stdin: process.stdin,
		stdout: process.stdout,
		color: colorLevel(color, Boolean(process.stdout.isTTY), env) > 0,
		maxLine: flags.maxLine ?? 1024 * 1024,
	});
}
