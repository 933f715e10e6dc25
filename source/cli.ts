import meow from 'meow';

// Command-line parsing only. What to run is decided in main.ts.

export const help = `
	Usage
	  $ logmon [options]                      watch the configured sources (default: --listen 127.0.0.1:7701)
	  $ some-command | logmon [options]       watch standard input
	  $ logmon [options] FILE|GLOB…           follow files: rotation, files that later match, *.gz read whole
	  $ logmon tail <application-uuid> <env>  Acquia logstream for an environment (Cloud API v2)
	  $ logmon publish --to URL               publish stdin lines to logio:// or kafka://
	  $ logmon redact --test < lines          print lines as redaction leaves them, with the rules that fired
	  $ logmon query [options]                print the events kept on disk (see Query)
	  $ logmon serve [options]                headless: sources, history, alerts and the HTTP API, no UI

	Sources
	  --config PATH          Config file (default $XDG_CONFIG_HOME/logmon/config.json)
	  --listen [HOST:]PORT   Listen for logio publishers (default 127.0.0.1:7701)
	  --serve-subscribers [HOST:]PORT
	                         Also serve logio HTTP subscribers (drop-in logio server)
	  --logio URL            Subscribe to a logio server, e.g. 'http://host:7702/?app=web'
	  --logstream URL        Acquia logstream WebSocket URL (auth message from the config)
	  --kafka BROKERS        Kafka brokers, comma-separated (like kcat -b)
	  -t, --types LIST       Logstream log types to enable; with --kafka: topics (like kcat -t)
	  --topic NAME           Kafka topic (repeatable; default application-logs and application-logs-errors)
	  -G, --group ID         Kafka consumer group (default logmon-<user>-<hostname>)
	  --ephemeral            Kafka: a throw-away consumer group
	  FILE|GLOB…             Follow these files (from their end; globs: * ? [...] and ** for any depth)
	  --file GLOB            The same as a flag (repeatable), e.g. --file '/srv/**/log/*.log'
	  --from-beginning       Files: read what they hold first; Kafka: start at the oldest offsets
	                         (default: latest)
	  --no-multiline         Files and stdin: every line its own event (default: stack traces and
	                         indented lines join the event they belong to)
	  --multiline-start RE   Files and stdin: lines matching RE start an event, the others continue it
	  --since 10m|RFC3339    Kafka: start at offsets for that time; Docker: running containers'
	                         lines from then on (query: see Query)
	  --exit-at-end          Kafka: exit once every partition is read to its end (like kcat -e)
	  --servers LIST         Logstream servers to enable (default: all)
	  --stdin / --no-stdin   Read standard input (default: when piped and no source flag is given)
	  --docker [SOCKET]      Docker containers, as logspout reads them: every running one and those
	                         that start later (default $DOCKER_HOST, else unix:///var/run/docker.sock;
	                         filters: "docker" in the config); with --since and --tail N for the first read
	  --tail N               Docker: the last N lines of each running container first (default 0)
	  --connect URL          Watch another logmon (logmon serve, or a run with --http), e.g.
	                         http://logbox:5004 (repeatable; URL parameters such as ?level=warn
	                         filter on the remote)
	  --token TOKEN          Its http.token for --connect (default $LOGMON_HTTP_TOKEN)
	  --otlp [HOST:]PORT     Receive OpenTelemetry logs over OTLP/HTTP, POST /v1/logs in protobuf
	                         or JSON, gzip or not (default 127.0.0.1:4318)
	  --journal [UNIT,…]     Follow the systemd journal (runs journalctl -f -o json), all of it or
	                         these units; \`journalctl -f -o json | logmon\` is understood too
	  --demo                 Replay real logs through embedded servers, a file it writes and rotates and
	                         OTLP posted over loopback (Docker, journald where present); web dashboard
	                         on 127.0.0.1:5004
	  --demo-rate N          Demo lines per second (default 200)

	Filters (shared by the UI and the pipe; RE is an RE2 regex, as in Go, run in linear time)
	  -g, --grep RE          Keep messages matching RE (repeatable; any may match)
	  -v, --exclude RE       Drop messages matching RE (repeatable)
	  -l, --level LEVEL      Keep LEVEL and above: trace debug info notice warn error critical
	  --service NAME         Keep these services (repeatable)
	  --host NAME            Keep these hosts / servers (repeatable)
	  --type NAME            Keep these log types (repeatable)
	  --source NAME          Keep these sources (repeatable)

	History (events kept on disk; on by default with a network source, off for stdin alone)
	  --history / --no-history
	                         Keep a history, or not, whatever the sources
	  --history-dir DIR      Where (default $XDG_STATE_HOME/logmon/history)
	  --retention AGE        Keep events this long (default 3d; errors: history.errorRetention, 30d)
	  --history-max SIZE     Keep the directory under this size (default 2GiB)

	Query (logmon query [filters] [output options]: the events kept on disk, oldest first)
	  --since 2h|RFC3339     Events from then on, by the event's own time
	  --until 30m|RFC3339    Events up to then, by the event's own time
	  --limit N              Only the newest N matches, still printed oldest first
	  --reverse              Newest first
	  --count                Print the number of matches only
	  --stats                Events per service and level, from the index
	  -f, --follow           Then the new events as they arrive, with no gap or repeat
	                         (with --limit N: the newest N stored, then the new ones)
	  e.g. $ logmon query --since 2h --level error --service checkout

	Redaction (on by default: keys, tokens, passwords, card numbers are replaced as events come in)
	  --no-redact            Show, pass on and serve events as they came
	  --redact-enable LIST   Also these built-in rules: email, ipv4, ipv6, ip
	  --redact-disable LIST  Not these built-in rules, e.g. card
	  --redact-rule NAME=RE  A rule of your own (repeatable; RE2; with a group, only the group is replaced)
	  --redact-field PATH    A key of JSON records whose value is replaced (repeatable), e.g. user.email
	  --redact-mode MODE     mask ([REDACTED:rule], default) or hash ([rule:3f9a1c07be], a keyed pseudonym)

	Alerts (rules and sinks in the config's "alerts"; the README lists every kind)
	  --alert EXPR           Alert on the terminal when an event matches EXPR, a filter as
	                         above, e.g. 'level>=critical' (repeatable; pipe mode: on stderr)
	  --no-bell              Alerts in the UI without the terminal bell

	HTTP (REST API and live stream under /api/v1/; see the README)
	  --http [HOST:]PORT     Serve it on this run too (logmon serve: default 127.0.0.1:5004, or http.listen)
	  --http-token TOKEN     Every API call needs "Authorization: Bearer TOKEN"; required off loopback
	                         (better: "http": {"token": "\${LOGMON_HTTP_TOKEN}"} in the config)

	Forwarding (send the stream on; the config's "forward" adds filters, batching and spool settings)
	  --forward URL          Forward every event to URL (repeatable): file:///var/log/logmon/all.ndjson,
	                         kafka://host:9092/topic, https://host/path, cloudwatch://eu-west-1

	Output
	  --no-ui                Never draw the UI; write the stream to stdout
	  -o, --output FORMAT    text (default), raw, json, template
	  --template TEXT        For -o template, e.g. '{time} {service} {level} {message}'
	  --color WHEN           auto (default), always, never; NO_COLOR is honoured
	  --buffer N             Events kept for the UI (default 50000; at most 128 Mi characters of text)
	  --max-line BYTES       Longest line kept whole (default 1048576)
	  --debug                Print protocol exchanges to stderr (secrets redacted)
	  --help, --version

	Exit codes
	  0 done (end of input, or the reader closed the pipe)   1 every source failed, or stdout failed
	  2 usage or config error   130 interrupted (SIGINT)   143 terminated (SIGTERM)

	Examples
	  $ logmon --demo                   # every pane alive, and the web dashboard at http://127.0.0.1:5004/
	  $ kubectl logs -f deploy/api | logmon --level warn
	  $ logmon --kafka 127.0.0.1:9092 -t application-logs -G mygroup --level error -o json | jq .message
	  $ logmon --docker --since 10m --level warn   # every container's warnings, the last 10 minutes first
	  $ logmon --logio 'http://logs:7702/?app=shop&proc=web|worker' --grep 'timeout|refused'
	  $ logmon --kafka 127.0.0.1:9092 --alert 'level>=critical' --alert 'service=checkout "connection refused"'
	  $ logmon tail 3f1c…-uuid prod --types php-error,drupal-watchdog
	  $ logmon --listen 0.0.0.0:7701 --retention 7d --history-max 10GiB
	  $ LOGMON_HTTP_TOKEN=… logmon --connect http://logbox:5004 --level warn   # the UI on a logmon serve
	  $ logmon --otlp 4318 --level warn                # OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
	  $ logmon --journal nginx.service,ssh.service     # or: journalctl -f -o json | logmon
	  $ logmon /var/log/nginx/*.log app.log --level warn   # follow files, through rotation
	  $ logmon --from-beginning --file 'logs/**/*.log' --multiline-start '^\\d{4}-\\d\\d-\\d\\d '
	  $ logmon --no-ui -o template --template '{time} {service} {message}' < app.log
	  $ logmon --redact-enable email --redact-rule 'order-token=tok_[a-z0-9]{24}' < app.log
	  $ echo 'key=AKIAIOSFODNN7EXAMPLE' | logmon redact --test
	  $ tail -f app.log | logmon publish --to 'logio://127.0.0.1:7701?app=shop&proc=web'
	  $ tail -f app.log | logmon publish --to kafka://127.0.0.1:9092/application-logs --service shop
	  $ logmon query --grep '\\breq-7f3a\\b' --count   # a whole word: the index skips segments without it
	  $ logmon query -f --since 10m --level warn      # the last 10 minutes, then live
	  $ logmon serve --kafka 127.0.0.1:9092          # a service: curl 127.0.0.1:5004/api/v1/logs/errors
	  $ logmon --http 5004 --kafka 127.0.0.1:9092    # the UI, and the API beside it
	  $ logmon serve --forward 'file:///var/log/logmon/all.ndjson?maxSize=100MiB&keep=5&gzip=true'
	  $ logmon serve --listen 7701 --forward 'kafka://10.0.0.5:9092/application-logs?errors=1'
	  $ logmon --docker --forward http://loki:3100/loki/api/v1/push   # or https://…/_bulk, any NDJSON URL
	  $ logmon serve --journal --forward 'cloudwatch://eu-west-1?group=/logmon/{host}&stream={service}'
	  $ curl -sN 'http://127.0.0.1:5004/api/v1/stream?q=level>=error'
`;

/** Every flag, as meow reads them. */
const flagSpec = {
	config: {type: 'string'},
	listen: {type: 'string'},
	serveSubscribers: {type: 'string'},
	logio: {type: 'string', isMultiple: true, default: [] as string[]},
	logstream: {type: 'string'},
	kafka: {type: 'string'},
	types: {type: 'string', shortFlag: 't', isMultiple: true, default: [] as string[]},
	topic: {type: 'string', isMultiple: true, default: [] as string[]},
	group: {type: 'string', shortFlag: 'G'},
	ephemeral: {type: 'boolean', default: false},
	fromBeginning: {type: 'boolean', default: false},
	file: {type: 'string', isMultiple: true, default: [] as string[]},
	multiline: {type: 'boolean'},
	multilineStart: {type: 'string'},
	since: {type: 'string'},
	exitAtEnd: {type: 'boolean', default: false},
	servers: {type: 'string', isMultiple: true, default: [] as string[]},
	stdin: {type: 'boolean'},
	connect: {type: 'string', isMultiple: true, default: [] as string[]},
	otlp: {type: 'string'},
	journal: {type: 'string'},
	docker: {type: 'string'},
	tail: {type: 'number'},
	token: {type: 'string'},
	demo: {type: 'boolean', default: false},
	demoRate: {type: 'number'},
	grep: {type: 'string', shortFlag: 'g', isMultiple: true, default: [] as string[]},
	exclude: {type: 'string', shortFlag: 'v', isMultiple: true, default: [] as string[]},
	level: {type: 'string', shortFlag: 'l'},
	service: {type: 'string', isMultiple: true, default: [] as string[]},
	host: {type: 'string', isMultiple: true, default: [] as string[]},
	type: {type: 'string', isMultiple: true, default: [] as string[]},
	source: {type: 'string', isMultiple: true, default: [] as string[]},
	alert: {type: 'string', isMultiple: true, default: [] as string[]},
	forward: {type: 'string', isMultiple: true, default: [] as string[]},
	bell: {type: 'boolean'},
	ui: {type: 'boolean'},
	output: {type: 'string', shortFlag: 'o'},
	template: {type: 'string'},
	color: {type: 'string'},
	buffer: {type: 'number'},
	maxLine: {type: 'number'},
	debug: {type: 'boolean', default: false},
	http: {type: 'string'},
	httpToken: {type: 'string'},
	history: {type: 'boolean'},
	historyDir: {type: 'string'},
	retention: {type: 'string'},
	historyMax: {type: 'string'},
	redact: {type: 'boolean'},
	redactEnable: {type: 'string', isMultiple: true, default: [] as string[]},
	redactDisable: {type: 'string', isMultiple: true, default: [] as string[]},
	redactRule: {type: 'string', isMultiple: true, default: [] as string[]},
	redactField: {type: 'string', isMultiple: true, default: [] as string[]},
	redactMode: {type: 'string'},
	test: {type: 'boolean', default: false},
	// publish
	to: {type: 'string'},
	// query
	until: {type: 'string'},
	limit: {type: 'number'},
	reverse: {type: 'boolean', default: false},
	count: {type: 'boolean', default: false},
	stats: {type: 'boolean', default: false},
	follow: {type: 'boolean', shortFlag: 'f', default: false},
} as const;

/**
 * Flags whose value cannot be left out (the others, `--otlp`, `--docker`, `--journal`, `--http`,
 * `--listen`, `--serve-subscribers`, and the numbers, have a default or say so themselves).
 */
const requiredValue = new Set<keyof typeof flagSpec>([
	'config', 'logio', 'logstream', 'kafka', 'types', 'topic', 'group', 'file', 'multilineStart', 'since', 'servers', 'connect', 'token',
	'grep', 'exclude', 'level', 'service', 'host', 'type', 'source', 'alert', 'forward', 'output', 'template', 'color', 'httpToken',
	'historyDir', 'retention', 'historyMax', 'redactEnable', 'redactDisable', 'redactRule', 'redactField', 'redactMode', 'to', 'until',
]);

const shortFlags = new Set([...Object.values(flagSpec).flatMap(spec => 'shortFlag' in spec ? [`-${spec.shortFlag}`] : [])]);

/** A token the parser reads as one of logmon's flags, not as the value before it (`--grep --bogus` greps for `--bogus`). */
function isKnownFlag(token: string): boolean {
	return longFlags.has(token.split('=')[0]!) || shortFlags.has(token);
}

/**
 * A flag that needs a value given none (last, or followed by another flag): the parser reads it as
 * empty, so `--file` or `--grep` alone was dropped without a word.
 */
export function missingValueProblem(argv: readonly string[]): string | undefined {
	for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
		const arg = argv[i]!;
		const name = [...requiredValue].find(n => arg === `--${kebab(n)}` || ('shortFlag' in flagSpec[n] && arg === `-${(flagSpec[n] as {shortFlag: string}).shortFlag}`));
		const next = argv[i + 1];
		if (name !== undefined && (next === undefined || isKnownFlag(next))) {
			return `${arg} needs a value${arg === `--${kebab(name)}` ? '' : ` (--${kebab(name)})`}; logmon --help shows it with an example`;
		}
	}

	return undefined;
}

/** A flag's name on the command line: `maxLine` is `max-line`. */
const kebab = (name: string): string => name.replaceAll(/[A-Z]/g, c => `-${c.toLowerCase()}`);

const valueFlags = new Set(Object.entries(flagSpec).flatMap(([name, spec]) => spec.type === 'boolean' ? [] : [
	`--${kebab(name)}`,
	...('shortFlag' in spec ? [`-${spec.shortFlag}`] : []),
]));

// Every flag has a `--no-` form for the parser (`--no-color` is `--color never`).
const longFlags = new Set(['--help', '--version', ...Object.keys(flagSpec).flatMap(name => [`--${kebab(name)}`, `--no-${kebab(name)}`])]);

/** Edit distance with a swap of two neighbours as one edit (`--sinec`), for "did you mean". */
function distance(a: string, b: string): number {
	const d = Array.from({length: a.length + 1}, (_, i) => Array.from({length: b.length + 1}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
	for (let i = 1; i <= a.length; i++) {
		for (let j = 1; j <= b.length; j++) {
			d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
				d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
			}
		}
	}

	return d[a.length]![b.length]!;
}

/**
 * The first long flag logmon does not know (`--sinec 5m`), as a message naming it and the nearest
 * known one; meow's own says only "Unknown flag". Values of flags and what follows `--` are not flags.
 */
export function unknownFlagProblem(argv: readonly string[]): string | undefined {
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (arg === '--') {
			return undefined;
		}

		if (valueFlags.has(arg)) {
			i++;
			continue;
		}

		if (!arg.startsWith('--')) {
			continue;
		}

		const flag = arg.split('=', 1)[0]!;
		if (longFlags.has(flag)) {
			continue;
		}

		// One edit for a short name, two for a longer one: `--nope` is no typo of `--type`.
		let best: string | undefined;
		let bestDistance = flag.length - 2 > 5 ? 3 : 2;
		for (const known of longFlags) {
			const d = distance(flag, known);
			if (d < bestDistance) {
				best = known;
				bestDistance = d;
			}
		}

		const shown = JSON.stringify(flag.slice(0, 60)).slice(1, -1);
		return `unknown flag ${shown}${best ? `: did you mean ${best}?` : ''} (logmon --help lists them)`;
	}

	return undefined;
}

/**
 * `--since -5m` and `--tail -5`: the parser takes a value that starts with a dash for flags of its
 * own ("Unknown flag -5m"). After a flag that takes a value, a dash and a digit is that value.
 */
export function joinDashValues(argv: readonly string[]): string[] {
	const out: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (arg === '--') {
			out.push(...argv.slice(i));
			break;
		}

		const next = argv[i + 1];
		if (valueFlags.has(arg) && next !== undefined && /^-[\d.]/.test(next)) {
			out.push(`${arg}=${next}`);
			i++;
		} else {
			out.push(arg);
		}
	}

	return out;
}

/**
 * `pkg`: the package.json fields meow shows (name, version); without it meow reads the
 * package.json above this module. The single executable has none there and passes its own.
 */
export function parseArgs(argv: string[] = process.argv.slice(2), pkg?: Record<string, unknown>) {
	return meow(help, {
		importMeta: import.meta,
		...(pkg ? {pkg} : {}),
		argv: joinDashValues(argv),
		allowUnknownFlags: false,
		booleanDefault: undefined,
		flags: flagSpec,
	});
}

export type Cli = ReturnType<typeof parseArgs>;

/** The flags the parser reads as numbers: it reads `--max-line abc` as NaN and a bare `--tail` as nothing. */
const numberFlags = {tail: '--tail', demoRate: '--demo-rate', buffer: '--buffer', maxLine: '--max-line', limit: '--limit'} as const;

/**
 * What is wrong with a number flag as written, naming the flag and quoting what was given; so
 * `--max-line abc` says `got "abc"`, not `got NaN`.
 */
export function numberFlagProblem(flags: Flags, argv: readonly string[]): string | undefined {
	for (const [key, flag] of Object.entries(numberFlags)) {
		const at = argv.findIndex(a => a === flag || a.startsWith(`${flag}=`));
		if (at === -1 || argv.slice(0, at).includes('--')) {
			continue;
		}

		const written = argv[at] === flag ? argv[at + 1] : argv[at]!.slice(flag.length + 1);
		const value = (flags as Record<string, unknown>)[key];
		if (written === undefined || written.trim() === '' || typeof value !== 'number' || Number.isNaN(value)) {
			return `${flag}: expected a number, got ${written === undefined ? 'nothing' : JSON.stringify(written.slice(0, 80))}`;
		}

		// Counts are whole numbers written in digits, as the API takes them: not 1e3 or 0x10.
		if (key !== 'demoRate' && !/^\s*\d+\s*$/.test(written)) {
			return `${flag}: expected a whole number in digits, got ${JSON.stringify(written.slice(0, 80))}`;
		}
	}

	return undefined;
}
export type Flags = Cli['flags'];

/** --color, with --no-color (which the parser gives as false) read as never. */
export function colorMode(flags: Flags): string | undefined {
	return (flags.color as unknown) === false ? 'never' : flags.color;
}

/** "a,b" and repeated flags, flattened. */
export function list(values: readonly string[]): string[] {
	return values.flatMap(v => v.split(',')).map(v => v.trim()).filter(Boolean);
}
