import {type Flags} from './cli.js';
import {exitCodes} from './exit.js';

// `logmon publish --to URL`: read stdin lines and publish them.
//   logio://host:7701?app=myapp&proc=web   logio publisher protocol
//   kafka://127.0.0.1:9092/application-logs  JSON records, errors also to <topic>-errors

export async function runPublish(flags: Flags, stderr: NodeJS.WritableStream): Promise<number> {
	const to = flags.to;
	if (!to) {
		stderr.write('logmon: publish: --to URL is required, e.g. --to \'logio://127.0.0.1:7701?app=myapp\'\n');
		return exitCodes.usage;
	}

	let url: URL;
	try {
		url = new URL(to);
	} catch {
		stderr.write(`logmon: publish: --to: not a URL: ${JSON.stringify(to)}\n`);
		return exitCodes.usage;
	}

	switch (url.protocol) {
		case 'logio:': {
			const {publishLogio} = await import('./publish/logio.js');
			return publishLogio(url, flags, process.stdin, stderr);
		}

		case 'kafka:': {
			const {publishKafka} = await import('./publish/kafka.js');
			return publishKafka(url, flags, process.stdin, stderr);
		}

		default: {
			stderr.write(`logmon: publish: --to: unsupported scheme ${JSON.stringify(url.protocol)}; expected logio:// or kafka://\n`);
			return exitCodes.usage;
		}
	}
}
