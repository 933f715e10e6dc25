import {type Flags} from './cli.js';
import {exitCodes} from './exit.js';

// `logmon publish --to URL`: read stdin lines and publish them (logio://, kafka://).
export async function runPublish(flags: Flags, stderr: NodeJS.WritableStream): Promise<number> {
	const to = flags.to;
	if (!to) {
		stderr.write('logmon: publish: --to URL is required, e.g. --to \'logio://127.0.0.1:7701?app=myapp\'\n');
		return exitCodes.usage;
	}

	stderr.write(`logmon: publish: ${JSON.stringify(to)}: unsupported destination; expected logio:// or kafka://\n`);
	return exitCodes.usage;
}
