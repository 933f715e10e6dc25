import {closeSync, openSync, renameSync, writeSync} from 'node:fs';
import {rm} from 'node:fs/promises';
import path from 'node:path';
import {demoDirectory} from './demo-dir.js';

// The demo's followed file: real Hadoop lines (loghub) appended to yarn-app.log in a temporary
// directory, a Java stack trace under every third ERROR or FATAL line (so multi-line joining shows),
// and the file rotated by rename (yarn-app.log -> yarn-app.log.1, a new yarn-app.log) every
// `rotateBytes` or `rotateMs`, whichever comes first, so rotation shows in the file source's
// health. Writes are small and synchronous, once per demo tick.

const prefix = 'logmon-demo-files-';

/** Frames of the traces; each trace takes a run of them from a place that depends on the line. */
const frames = [
	'sun.nio.ch.SocketChannelImpl.checkConnect(Native Method)',
	'sun.nio.ch.SocketChannelImpl.finishConnect(SocketChannelImpl.java:717)',
	'org.apache.hadoop.net.SocketIOWithTimeout.connect(SocketIOWithTimeout.java:206)',
	'org.apache.hadoop.net.NetUtils.connect(NetUtils.java:531)',
	'org.apache.hadoop.ipc.Client$Connection.setupConnection(Client.java:614)',
	'org.apache.hadoop.ipc.Client$Connection.setupIOstreams(Client.java:712)',
	'org.apache.hadoop.ipc.Client.getConnection(Client.java:1528)',
	'org.apache.hadoop.ipc.Client.call(Client.java:1451)',
	'org.apache.hadoop.ipc.ProtobufRpcEngine$Invoker.invoke(ProtobufRpcEngine.java:229)',
	'com.sun.proxy.$Proxy37.allocate(Unknown Source)',
	'org.apache.hadoop.yarn.api.impl.pb.client.ApplicationMasterProtocolPBClientImpl.allocate(ApplicationMasterProtocolPBClientImpl.java:77)',
	'org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator.makeRemoteRequest(RMContainerAllocator.java:700)',
	'org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator.heartbeat(RMContainerAllocator.java:244)',
	'org.apache.hadoop.mapreduce.v2.app.rm.RMCommunicator$1.run(RMCommunicator.java:282)',
	'java.lang.Thread.run(Thread.java:745)',
];

const exceptions = [
	'java.net.ConnectException: Connection refused',
	'java.net.NoRouteToHostException: No route to host',
	'java.io.IOException: Failed on local exception: java.io.IOException: Connection reset by peer',
	'org.apache.hadoop.yarn.exceptions.YarnRuntimeException: Could not contact RM after 360 seconds.',
];

const errorLine = /^\S+ \S+ (?:ERROR|FATAL) /;
/** Hadoop_2k.log's errors begin past line 900. */
const firstLine = 880;

/** The lines of a Java stack trace for the n-th trace: 3 to 14 frames, a `Caused by:` now and then. */
export function javaTrace(n: number): string[] {
	const lines = [exceptions[n % exceptions.length]!];
	const depth = 3 + (n * 7 % 12);
	const from = n % 3;
	for (let i = 0; i < depth; i++) {
		lines.push(`\tat ${frames[(from + i) % frames.length]!}`);
	}

	if (n % 3 === 0) {
		lines.push('Caused by: java.net.ConnectException: Connection refused', `\tat ${frames[0]!}`, `\tat ${frames[1]!}`, `\t... ${depth - 2} more`);
	}

	return lines;
}

export type DemoFileOptions = {
	/** The Hadoop lines to replay. */
	lines: string[];
	rotateBytes: number;
	rotateMs: number;
};

export class DemoFile {
	readonly file: string;
	rotations = 0;
	/** The first write that failed, if any. */
	problem: string | undefined;
	private fd: number;
	private pending = '';
	/** From where the log's errors begin, so traces show in the first seconds. */
	private next = firstLine;
	private errors = 0;
	private traces = 0;
	private written = 0;
	private openedAt = Date.now();

	static async create(options: DemoFileOptions): Promise<DemoFile> {
		return new DemoFile(await demoDirectory(prefix), options);
	}

	private constructor(readonly dir: string, private readonly options: DemoFileOptions) {
		this.file = path.join(dir, 'yarn-app.log');
		this.fd = openSync(this.file, 'a');
	}

	/** One more line (with its trace when it is an error). */
	send(): void {
		const {lines} = this.options;
		const line = lines[this.next++ % lines.length]!;
		this.pending += line + '\n';
		if (errorLine.test(line) && this.errors++ % 3 === 0) {
			this.pending += javaTrace(this.traces++).join('\n') + '\n';
		}
	}

	/** Write what was sent since the last flush, rotating first when it is time. */
	flush(now = Date.now()): void {
		const data = this.pending;
		this.pending = '';
		try {
			if (this.written > 0 && (this.written >= this.options.rotateBytes || now - this.openedAt >= this.options.rotateMs)) {
				this.rotate(now);
			}

			if (data) {
				this.written += writeSync(this.fd, data);
			}
		} catch (error) {
			// A full disk, the directory removed: the file source says what it sees; the demo goes on.
			this.problem ??= error instanceof Error ? error.message : String(error);
		}
	}

	/** As logrotate's default: rename the file away (over the previous copy), then start a new one. */
	private rotate(now: number): void {
		closeSync(this.fd);
		renameSync(this.file, `${this.file}.1`);
		this.fd = openSync(this.file, 'a');
		this.written = 0;
		this.openedAt = now;
		this.rotations++;
	}

	async stop(): Promise<void> {
		try {
			closeSync(this.fd);
		} catch {
			// Already closed.
		}

		await rm(this.dir, {recursive: true, force: true});
	}
}
