import {type Cli, missingValueProblem, numberFlagProblem, parseArgs, unknownFlagProblem} from './cli.js';
import {failUsage as fail} from './exit.js';

// The entry: parse, then load only the command that runs (each is a chunk of its own in the
// bundle, so a command starts without the others' modules).

export type MainOptions = {
	/** package.json fields for --version and the process title (the single executable's, embedded at build time). */
	pkg?: Record<string, unknown>;
};

export async function main(argv = process.argv.slice(2), options: MainOptions = {}): Promise<number> {
	const {stderr, env} = process;
	const unknown = unknownFlagProblem(argv) ?? missingValueProblem(argv);
	if (unknown !== undefined) {
		return fail(stderr, unknown);
	}

	let cli: Cli;
	try {
		cli = parseArgs(argv, options.pkg);
	} catch (error) {
		// meow throws on a flag given twice (`--color always --no-color`): a usage error, not a bug.
		return fail(stderr, error instanceof Error ? error.message : String(error));
	}

	const {flags, input} = cli;
	// meow answers --help and --version only when alone; `logmon serve --help` started a server.
	if (flags.help === true) {
		process.stdout.write(`${cli.help}\n`);
		return 0;
	}

	if (flags.version === true) {
		process.stdout.write(`${String(cli.pkg.version)}\n`);
		return 0;
	}

	const numberProblem = numberFlagProblem(flags, argv);
	if (numberProblem !== undefined) {
		return fail(stderr, numberProblem);
	}

	if (input[0] === 'publish') {
		const {runPublish} = await import('./publish.js');
		return runPublish(flags, stderr);
	}

	if (input[0] === 'redact') {
		const {redactCommand} = await import('./redact-command.js');
		return redactCommand(cli.flags, input, stderr, env);
	}

	if (input[0] === 'query') {
		if (input.length > 1) {
			return fail(stderr, `query: unexpected argument ${JSON.stringify(input[1])}; filters are flags, e.g. logmon query --grep ${JSON.stringify(input[1])}`);
		}

		// The history on disk: no sources, no React or Ink.
		const {runQuery} = await import('./query.js');
		return runQuery(flags);
	}

	const {runWatch} = await import('./watch.js');
	return runWatch(cli);
}
