import {type AlertSettings} from './config/alerts.js';
import {type ConfigFile, type SourceConfig} from './config/schema.js';
import {colorModes, outputFormats} from './config/choices.js';
import {defaultListenSource} from './config/defaults.js';
import {demoRules} from './demo-alerts.js';
import {ConfigError, formatIssues} from './config/errors.js';
import {expandHome} from './config/locate.js';
import {type LogstreamConfig} from './config/logstream.js';
import {type DockerConfig} from './config/docker.js';
import {type FilterSpec, compileFilter, emptySpec, parseLevel} from './core/filter.js';
import {defaultHistoryDir} from './history/paths.js';
import {parseDuration, parseSize} from './history/units.js';
import {type RedactSpec} from './core/redact-spec.js';
import {compileUserRegex, FilterError} from './core/regex.js';
import {type Flags, colorMode, list} from './cli.js';
import {defaultHttpHost, defaultHttpPort} from './http/address.js';
import {type HttpSettings, HttpSettingsError, resolveHttp} from './http/settings.js';
import {isLoopback} from './http/address.js';
import {type ForwardSettings} from './config/forward.js';
import {existsSync} from 'node:fs';
import {hasMagic} from './core/glob.js';

// Flags over config: the one resolved description of what this run does. The config schema
// (zod) is loaded only to check what the flags add: sources, alert rules, forwarders. A run
// that adds none, such as a plain `logmon query`, starts without it.

export type Settings = {
	sources: SourceConfig[];
	filter: FilterSpec;
	output: (typeof outputFormats)[number];
	template: string | undefined;
	color: (typeof colorModes)[number];
	buffer: number;
	maxLine: number;
	debug: boolean;
	/** undefined: decide by the terminal. */
	ui: boolean | undefined;
	demo: boolean;
	demoRate: number;
	history: HistorySettings;
	redact: RedactSettings;
	alerts: AlertSettings;
	/** The HTTP server (--http, logmon serve); undefined when there is none. */
	http: HttpSettings | undefined;
	/** `logmon serve`: headless, nothing on stdout. */
	serve: boolean;
	/** Forwarders: the config's `forward`, then `--forward` ones. */
	forward: ForwardSettings[];
};

export type HistorySettings = {
	enabled: boolean;
	/** Undefined with --demo: a temporary directory, removed at exit. */
	dir: string | undefined;
	retentionMs: number;
	errorRetentionMs: number;
	maxBytes: number;
	flushMs: number;
};

export type RedactSettings = RedactSpec & {
	enabled: boolean;
	/** The key of hash mode from the config; undefined: the one in the state directory. */
	key: string | undefined;
};

export class UsageError extends Error {}

/**
 * Where this run keeps or sends events beyond its own view, by name: what `--no-redact` exposes
 * there outlives the run or leaves the machine. History, the HTTP server and forwarders add
 * themselves here as they come.
 */
export function eventOutlets(settings: Pick<Settings, 'sources' | 'history'> & Partial<Pick<Settings, 'http' | 'forward'>>): string[] {
	const outlets: string[] = [];
	if (settings.sources.some(s => s.type === 'logio-listen' && s.serveSubscribers !== undefined)) {
		outlets.push('logio subscribers');
	}

	if (settings.history.enabled) {
		outlets.push('the history files');
	}

	if (settings.http) {
		outlets.push('the HTTP API');
	}

	for (const f of settings.forward ?? []) {
		outlets.push(`forwarder ${f.name}`);
	}

	return outlets;
}

/** The one-line warning for redaction turned off while events are kept or sent on, or undefined. */
export function unredactedWarning(enabled: boolean, outlets: readonly string[]): string | undefined {
	if (enabled || outlets.length === 0) {
		return undefined;
	}

	const names = outlets.length === 1 ? outlets[0]! : `${outlets.slice(0, -1).join(', ')} and ${outlets.at(-1)!}`;
	return `redaction is off (--no-redact or redact.enabled: false): ${names} get every line as it came, secrets included`;
}

/** `--history-dir` and the like given while the history is off: they would do nothing, silently. */
export function unusedHistoryFlagsWarning(flags: Flags, historyEnabled: boolean): string | undefined {
	const given = ([['historyDir', '--history-dir'], ['retention', '--retention'], ['historyMax', '--history-max']] as const)
		.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag);
	if (historyEnabled || given.length === 0) {
		return undefined;
	}

	const why = flags.history === false ? '--no-history' : 'stdin, files, the journal and --connect keep none unless asked';
	return `${given.join(', ')} ${given.length === 1 ? 'does' : 'do'} nothing: the history is off (${why}); add --history to keep one`;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
	if (value === undefined) {
		return undefined;
	}

	const found = allowed.find(a => a === value);
	if (!found) {
		throw new UsageError(`${flag}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
	}

	return found;
}

async function validSource(raw: unknown, flag: string): Promise<SourceConfig> {
	const {sourceConfig} = await import('./config/schema.js');
	const r = sourceConfig.safeParse(raw);
	if (!r.success) {
		throw new UsageError(formatIssues(flag, r.error));
	}

	return r.data;
}

export type Environment = {
	stdinIsTTY: boolean;
	input: string[];
	/** For $XDG_STATE_HOME; default process.env. */
	env?: NodeJS.ProcessEnv | undefined;
	/** The config file read, if any: errors in what it holds name it. */
	configFile?: string | undefined;
};

/** A config key as an error names it: with the file it is in, as the schema's errors do. */
function configKey(key: string, file: string | undefined): string {
	return file === undefined ? key : `${file}: ${key}`;
}

function processEnv(env: Environment): NodeJS.ProcessEnv {
	return env.env ?? process.env;
}

/**
 * On whenever a network source runs: what those sources carry is gone once it scrolls past,
 * and the history is how it is seen again. Off for stdin alone: the input is usually a file
 * or a command's output that can be read again; off for --connect alone: the logmon it reads
 * keeps its own. --history / --no-history decide otherwise.
 */
function resolveHistory(flags: Flags, config: ConfigFile, sources: SourceConfig[], env: NodeJS.ProcessEnv): HistorySettings {
	// A connect source reads another logmon, which keeps the history itself.
	// The journal keeps its own entries, as a file does: journald is local like stdin.
	const network = sources.some(s => s.type !== 'stdin' && s.type !== 'connect' && s.type !== 'journald' && s.type !== 'file');
	const enabled = flags.history ?? config.history.enabled ?? (network || flags.demo);
	const retentionMs = flags.retention === undefined ? config.history.retention : parseDuration(flags.retention);
	if (retentionMs === undefined) {
		throw new UsageError(`--retention: expected a duration such as 3d, 12h or 90m, got ${JSON.stringify(flags.retention)}`);
	}

	const maxBytes = flags.historyMax === undefined ? config.history.maxSize : parseSize(flags.historyMax);
	if (maxBytes === undefined) {
		throw new UsageError(`--history-max: expected a size such as 2GiB or 500MB, got ${JSON.stringify(flags.historyMax)}`);
	}

	if (flags.historyDir === '') {
		throw new UsageError('--history-dir: expected a directory');
	}

	// --demo keeps its history in a temporary directory unless one is named on the command line.
	const named = flags.historyDir ?? (flags.demo ? undefined : config.history.dir);
	return {
		enabled,
		dir: named === undefined ? (flags.demo ? undefined : defaultHistoryDir(env)) : expandHome(named),
		retentionMs,
		errorRetentionMs: Math.max(retentionMs, config.history.errorRetention),
		maxBytes,
		flushMs: config.history.flushMs,
	};
}

/** The sources named on the command line, or undefined when none were. */
async function sourcesFromFlags(flags: Flags, config: ConfigFile, env: Environment): Promise<SourceConfig[]> {
	const out: SourceConfig[] = [];
	const types = list(flags.types);
	const servers = list(flags.servers);
	const logstreamSelection = {...(types.length > 0 ? {types} : {}), ...(servers.length > 0 ? {servers} : {})};

	if (env.input[0] === 'tail') {
		const [, application, environment] = env.input;
		if (!application || !environment) {
			throw new UsageError('tail: usage: logmon tail <application-uuid> <environment>');
		}

		const fromConfig = config.sources.find((s): s is LogstreamConfig => s.type === 'logstream' && s.acquia !== undefined);
		out.push(await validSource({
			type: 'logstream',
			name: 'logstream',
			acquia: {...fromConfig?.acquia, application, environment},
			...logstreamSelection,
		}, 'logmon tail'));
	}

	if (flags.logstream) {
		const withAuth = config.sources.find((s): s is LogstreamConfig => s.type === 'logstream' && s.auth !== undefined);
		if (!withAuth) {
			throw new UsageError('--logstream: needs the stream-environment message {"site","env","t","d"} as "auth" of a logstream source in the config file');
		}

		out.push(await validSource({...withAuth, url: flags.logstream, ...logstreamSelection}, '--logstream'));
	}

	const token = flags.token ?? processEnv(env)['LOGMON_HTTP_TOKEN'];
	for (const url of flags.connect) {
		out.push(await validSource({type: 'connect', url, ...(token ? {token} : {})}, '--connect'));
	}

	if (flags.token !== undefined && flags.connect.length === 0) {
		throw new UsageError('--token: only with --connect URL (the token of the logmon it connects to); the token of this logmon\'s own HTTP server is --http-token');
	}

	for (const url of flags.logio) {
		out.push(await validSource({type: 'logio', url}, '--logio'));
	}

	if (flags.listen !== undefined || flags.serveSubscribers !== undefined) {
		out.push(await validSource({
			type: 'logio-listen',
			...(flags.listen === undefined ? {} : {listen: flags.listen}),
			...(flags.serveSubscribers === undefined ? {} : {serveSubscribers: flags.serveSubscribers}),
		}, flags.listen === undefined ? '--serve-subscribers' : '--listen'));
	}

	if (flags.otlp !== undefined) {
		out.push(await validSource({type: 'otlp', ...(flags.otlp === '' ? {} : {listen: flags.otlp})}, '--otlp'));
	}

	if (flags.journal !== undefined) {
		const units = list([flags.journal]);
		out.push(await validSource({type: 'journald', ...(units.length > 0 ? {units} : {})}, '--journal'));
	}

	const files = [...filePaths(env), ...flags.file];
	if (files.length > 0) {
		out.push(await validSource({type: 'file', paths: files, fromBeginning: flags.fromBeginning}, flags.file.length > 0 ? '--file' : 'FILE'));
	}

	if (flags.kafka !== undefined) {
		const topics = [...list(flags.topic), ...types];
		out.push(await validSource({
			type: 'kafka',
			brokers: list([flags.kafka]),
			...(topics.length > 0 ? {topics} : {}),
			...(flags.group ? {group: flags.group} : {}),
			ephemeralGroup: flags.ephemeral,
			from: flags.fromBeginning ? 'beginning' : 'latest',
			...(flags.since ? {since: flags.since} : {}),
			...(flags.exitAtEnd ? {exitAtEnd: true} : {}),
		}, '--kafka'));
	} else if (list(flags.topic).length > 0 || flags.group || flags.ephemeral || (flags.since && flags.docker === undefined) || flags.exitAtEnd) {
		throw new UsageError('--topic, --group, --ephemeral, --since and --exit-at-end need --kafka BROKERS (--since also goes with --docker)');
	} else if (flags.fromBeginning && files.length === 0) {
		throw new UsageError('--from-beginning needs files to read (logmon --from-beginning app.log) or --kafka BROKERS');
	}

	if (flags.docker !== undefined) {
		// `--docker` alone: $DOCKER_HOST or the default socket, resolved when the source starts.
		const fromConfig = config.sources.find((s): s is DockerConfig => s.type === 'docker');
		out.push(await validSource({
			...fromConfig,
			type: 'docker',
			...(flags.docker === '' ? {} : {socket: flags.docker}),
			...(flags.since ? {since: flags.since} : {}),
			...(flags.tail === undefined ? {} : {tail: flags.tail}),
		}, '--docker'));
	} else if (flags.tail !== undefined) {
		throw new UsageError('--tail: only with --docker, e.g. logmon --docker --tail 100');
	}

	return out;
}

/** The positional arguments that name files: all of them, or those after `serve`; none after `tail`. */
function filePaths(env: Environment): string[] {
	const [first] = env.input;
	// `-` is stdin, as for cat and tail (resolveSettings).
	const paths = (first === 'tail' ? [] : (first === 'serve' ? env.input.slice(1) : env.input)).filter(p => p !== '-');
	for (const p of paths) {
		// A mistyped command (`logmon sevre`) is not a file that may appear later.
		if (!hasMagic(p) && !p.includes('/') && !p.includes('.') && !existsSync(p)) {
			throw new UsageError(`unknown command ${JSON.stringify(p)}, and no such file (a file that does not exist yet: ./${p}); see logmon --help`);
		}
	}

	return paths;
}

/** --no-multiline and --multiline-start, over every file and stdin source. */
function withMultilineFlags(sources: SourceConfig[], flags: Flags): SourceConfig[] {
	if (flags.multiline === undefined && flags.multilineStart === undefined) {
		return sources;
	}

	if (flags.multilineStart !== undefined) {
		compileUserRegex(flags.multilineStart, '--multiline-start');
	}

	return sources.map(s => {
		if (s.type !== 'file' && s.type !== 'stdin') {
			return s;
		}

		const multiline = {...s.multiline};
		if (flags.multiline !== undefined) {
			multiline.enabled = flags.multiline;
		}

		if (flags.multilineStart !== undefined) {
			multiline.start = flags.multilineStart;
			multiline.enabled = flags.multiline ?? true;
		}

		return {...s, multiline};
	});
}

const redactModes = ['mask', 'hash'] as const;

/** The user rule `--demo` adds: the demo logs fake order tokens now and then (demo.ts). */
const demoRedactRule = {name: 'order-token', pattern: 'tok_[a-z0-9]{24}', from: '--demo'};

/** `--redact-rule NAME=REGEX`, the config's `redact` object, and the other --redact flags. */
export async function resolveRedaction(flags: Flags, config: ConfigFile, configFile?: string): Promise<RedactSettings> {
	const fromFlags = flags.redactRule.map(r => {
		const eq = r.indexOf('=');
		if (eq <= 0 || eq === r.length - 1) {
			throw new FilterError('--redact-rule', `expected NAME=REGEX, e.g. --redact-rule 'order-token=tok_[a-z0-9]{24}', got ${JSON.stringify(r)}`);
		}

		return {name: r.slice(0, eq), pattern: r.slice(eq + 1), from: '--redact-rule'};
	});
	const cliEnable = list(flags.redactEnable);
	const cliDisable = list(flags.redactDisable);
	const cliFields = list(flags.redactField);
	if (flags.redactField.some(f => f.trim() === '')) {
		throw new FilterError('--redact-field', 'expected a key or a dotted path of keys, e.g. ssn or user.email; got nothing');
	}

	const redact: RedactSettings = {
		enabled: flags.redact ?? config.redact.enabled,
		mode: oneOf(flags.redactMode, redactModes, '--redact-mode') ?? config.redact.mode,
		key: config.redact.key,
		enable: [...config.redact.enable, ...cliEnable],
		disable: [...config.redact.disable, ...cliDisable],
		rules: [...config.redact.rules.map((r, i) => ({...r, from: configKey(`redact.rules[${i}]`, configFile)})), ...fromFlags],
		fields: [...config.redact.fields, ...cliFields],
	};
	// The demo shows a user rule at work (its fake order tokens), and with it the redaction thread.
	if (flags.demo && !redact.rules.some(r => r.name === demoRedactRule.name)) {
		redact.rules = [...redact.rules, demoRedactRule];
	}

	if (redact.enable.length + redact.disable.length + redact.rules.length + redact.fields.length === 0) {
		return redact; // nothing to check: the rule tables and the regex compiler stay unloaded
	}

	const {checkField, compileUserRules, ruleNames} = await import('./core/redact-spec.js');
	// Each list checked where it came from, so an error names the flag or the config key at fault.
	ruleNames(config.redact.enable, configKey('redact.enable', configFile));
	ruleNames(config.redact.disable, configKey('redact.disable', configFile));
	ruleNames(cliEnable, '--redact-enable');
	ruleNames(cliDisable, '--redact-disable');
	for (const f of config.redact.fields) {
		checkField(f, configKey('redact.fields', configFile));
	}

	for (const f of cliFields) {
		checkField(f, '--redact-field');
	}

	compileUserRules(redact.rules); // throws a FilterError naming the flag or config key; the lists are checked above
	return redact;
}

/** The config's forwarders, then `--forward URL` ones, named and checked. */
async function resolveForward(flags: Flags, config: ConfigFile, configFile: string | undefined): Promise<ForwardSettings[]> {
	if (config.forward.length === 0 && flags.forward.length === 0) {
		return [];
	}

	const {ForwardUrlError, forwardConfig, forwardFromUrl, nameForwarders} = await import('./config/forward.js');
	try {
		const fromFlags = flags.forward.map(text => {
			const r = forwardConfig.safeParse(forwardFromUrl(text));
			if (!r.success) {
				throw new UsageError(formatIssues(`--forward ${text}`, r.error));
			}

			return r.data;
		});
		const all = [...config.forward, ...fromFlags];
		return nameForwarders(all, i => (i < config.forward.length ? configKey(`forward[${i}]`, configFile) : `--forward ${flags.forward[i - config.forward.length]!}`));
	} catch (error) {
		throw error instanceof ForwardUrlError ? new UsageError(error.message) : error;
	}
}

/** The config's rules, then `--alert` ones (terminal only), then the demo's. */
async function alertSettings(flags: Flags, config: ConfigFile): Promise<AlertSettings> {
	const {alerts} = config;
	const terminal = alerts.sinks['terminal'];
	const bell = flags.bell ?? (terminal?.type === 'terminal' ? terminal.bell : true);
	if (alerts.rules.length === 0 && flags.alert.length === 0 && !flags.demo) {
		return {rules: [], sinks: alerts.sinks, bell};
	}

	const {ruleConfig, toRule} = await import('./config/alerts.js');
	const rules = alerts.rules.map(r => toRule(r, alerts.defaults));
	const names = new Set(rules.map(r => r.name));
	const add = (raw: Record<string, unknown>, flag: string): void => {
		const r = ruleConfig.safeParse(raw);
		if (!r.success) {
			throw new UsageError(formatIssues(flag, r.error));
		}

		let {name} = r.data;
		for (let i = 2; names.has(name); i++) {
			name = `${r.data.name} (${i})`;
		}

		names.add(name);
		rules.push(toRule({...r.data, name}, {...alerts.defaults, notify: ['terminal']}));
	};

	for (const expression of flags.alert) {
		add({name: expression, when: expression, severity: 'critical'}, '--alert');
	}

	if (flags.demo) {
		for (const raw of demoRules) {
			add(raw, '--demo');
		}
	}

	return {rules, sinks: alerts.sinks, bell};
}

export async function resolveSettings(flags: Flags, config: ConfigFile, env: Environment): Promise<Settings> {
	const fromFlags = await sourcesFromFlags(flags, config, env);
	let sources = fromFlags.length > 0 ? fromFlags : config.sources;
	// A service reads stdin only when told to: under systemd it is /dev/null.
	const serve = env.input[0] === 'serve';
	const dash = env.input[0] !== 'tail' && env.input.includes('-');
	if (dash && flags.stdin === false) {
		throw new UsageError('-: stdin is named as a file, and --no-stdin leaves it out; say one of them');
	}

	const wantStdin = flags.stdin ?? (dash || (!env.stdinIsTTY && fromFlags.length === 0 && !flags.demo && !serve));
	if (wantStdin && !sources.some(s => s.type === 'stdin')) {
		sources = [...sources, await validSource({type: 'stdin'}, '--stdin')];
	} else if (flags.stdin === false) {
		sources = sources.filter(s => s.type !== 'stdin');
	}

	sources = withMultilineFlags(sources, flags);
	if (sources.length === 0 && !flags.demo) {
		// The embedded default: be a logio server on loopback.
		sources = [defaultListenSource()];
	}

	const filter: FilterSpec = {
		...emptySpec(),
		grep: [...config.filter.grep, ...flags.grep],
		exclude: [...config.filter.exclude, ...flags.exclude],
		minLevel: flags.level === undefined ? config.filter.level : parseLevel(flags.level, '--level'),
		services: [...config.filter.services, ...list(flags.service)],
		hosts: [...config.filter.hosts, ...list(flags.host)],
		types: [...config.filter.types, ...list(flags.type)],
		sources: [...config.filter.sources, ...list(flags.source)],
	};
	compileFilter(filter); // throws a FilterError naming the flag

	const buffer = flags.buffer ?? config.buffer;
	if (!Number.isInteger(buffer) || buffer < 100) {
		throw new UsageError(`--buffer: expected a whole number of events, at least 100, got ${buffer}`);
	}

	const maxLine = flags.maxLine ?? config.maxLine;
	if (!Number.isInteger(maxLine) || maxLine < 1024) {
		throw new UsageError(`--max-line: expected a whole number of bytes, at least 1024, got ${maxLine}`);
	}

	const demoRate = flags.demoRate ?? 200;
	if (!(demoRate > 0)) {
		throw new UsageError(`--demo-rate: expected a positive number of lines per second, got ${demoRate}`);
	}

	return {
		sources,
		filter,
		history: resolveHistory(flags, config, sources, processEnv(env)),
		output: oneOf(flags.output, outputFormats, '--output') ?? (flags.template ? 'template' : config.output),
		template: flags.template ?? config.template,
		color: oneOf(colorMode(flags), colorModes, '--color') ?? config.color,
		buffer,
		maxLine,
		debug: flags.debug,
		ui: flags.ui,
		demo: flags.demo,
		demoRate,
		redact: await resolveRedaction(flags, config, env.configFile),
		alerts: await alertSettings(flags, config),
		http: notOwnAddress(sources, httpSettings(flags, config, serve)),
		serve,
		forward: await resolveForward(flags, config, env.configFile),
	};
}

/** A connect source aimed at this run's own HTTP server would read its own events back, forever. */
function notOwnAddress(sources: SourceConfig[], http: HttpSettings | undefined): HttpSettings | undefined {
	if (!http) {
		return http;
	}

	const wildcard = http.host === '0.0.0.0' || http.host === '::';
	for (const s of sources) {
		if (s.type !== 'connect') {
			continue;
		}

		const url = new URL(s.url);
		const host = url.hostname.replace(/^\[|\]$/g, '');
		const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
		const same = host === http.host || (isLoopback(host) && (isLoopback(http.host) || wildcard));
		if (port === http.port && same) {
			throw new UsageError(`${s.name ?? '--connect'}: ${s.url} is this logmon's own HTTP server (${http.from}); it would read its own events back forever. Connect to another logmon.`);
		}
	}

	return http;
}

function httpSettings(flags: Flags, config: ConfigFile, serve: boolean): HttpSettings | undefined {
	try {
		const http = resolveHttp(flags, config, serve);
		if (http || !flags.demo) {
			return http;
		}

		// --demo shows the web dashboard too: on 127.0.0.1:5004, or the next free port (main.ts).
		const demo = resolveHttp({http: `${defaultHttpHost}:${defaultHttpPort}`}, config, false);
		return demo && {...demo, from: '--demo'};
	} catch (error) {
		throw error instanceof HttpSettingsError ? new UsageError(error.message) : error;
	}
}

export {ConfigError};
