import {type Readable} from 'node:stream';
import {type Flags} from '../cli.js';
import {exitCodes} from '../exit.js';

// Placeholder until the logio publisher lands.
export async function publishLogio(url: URL, flags: Flags, input: Readable, stderr: NodeJS.WritableStream): Promise<number> {
	void flags;
	void input;
	stderr.write(`logmon: publish: ${url.protocol}// is not built yet\n`);
	return exitCodes.usage;
}
