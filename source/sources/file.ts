import {statSync} from 'node:fs';
import path from 'node:path';
import {type FileConfig} from '../config/file.js';
import {type SourceHandle} from '../core/bus.js';
import {type EventInit} from '../core/event.js';
import {type Glob, matchPath, mayHoldMatches, parseGlob} from '../core/glob.js';
import {eventFromLines} from '../core/multiline-event.js';
import {type Origin} from '../core/record.js';
import {type MultilineOptions} from '../core/multiline.js';
import {compileUserRegex} from '../core/regex.js';
import {sanitize} from '../core/sanitize.js';
import {expandGlob} from './file-glob.js';
import {GzipReader} from './file-gzip.js';
import {isGzip, isRotationOf, rotationOfOne, serviceOfFile} from './file-names.js';
import {describeFileError, missedRotations, noMatch, type Problem, ProblemLog, rotatedCopies} from './file-problems.js';
import {type FileReader, FileTailer, type TailerOptions, type TailerSink} from './file-tailer.js';
import {showFileHealth} from './file-health.js';
import {pollInterval} from './file-poll.js';
import {DirWatches} from './file-watch.js';
import {type LogSource, type SourceDeps} from './source.js';

// Files named by paths and globs, followed through rotation (file-tailer.ts reads one file).
//
// Which files: every path and glob is expanded at start and again at each poll, and at once
// when a watched directory reports a new name. Files are known by device and inode, so a file
// renamed to a name the globs still match is followed on under its new name, not read again.
// Rotation by rename: the new file under the old name is read from its start, once the old
// one has been read to its end. Copy-truncate: the tailer notices and reads the rest from the
// copy. A file that appears later is read from its start, unless its name is a rotation of a
// followed file's (a copy of lines already read): then from its end.
//
// Change events come from fs.watch on the directories (one watch for a directory of 1,000
// files), and a check with stat covers filesystems that send none (file-poll.ts says how often).

export class FileSource implements LogSource {
	readonly kind = 'file' as const;
	readonly ended: Promise<void> | undefined;
	private readonly globs: Glob[];
	private readonly tailerOptions: TailerOptions;
	private readonly tailers = new Map<string, FileTailer>();
	/** Followed files no longer matched (rotated away, removed), still read until a check finds nothing new. */
	/** By name: the read still owed of the file that had it before a rotation. */
	private readonly predecessors = new Map<string, Promise<void>>();
	private readonly retiring = new Map<string, {tailer: FileTailer; position: number; grewAt: number}>();
	private readonly byPath = new Map<string, FileTailer>();
	/** Compressed files by device and inode: read, being read, or skipped. */
	private readonly compressed = new Map<string, {path: string; state: string; reader?: GzipReader; failed?: boolean}>();
	private readonly watches = new DirWatches((dir, event, name) => {
		this.changed(dir, event, name);
	});
	private problems: Problem[] = [];
	private readonly told: ProblemLog;
	/** Files (device:inode) there at the first scan: read from their end unless --from-beginning. */
	private readonly atStart = new Set<string>();
	/** Files (device:inode) that are copies of a followed file, made by copy-truncate rotation: not followed. */
	private readonly copies = new Set<string>();
	private first = true;
	private handle: SourceHandle | undefined;
	private pending: EventInit[] = [];
	private scanning: Promise<void> | undefined;
	private rescan = false;
	private pollTimer: NodeJS.Timeout | undefined;
	private pollMs: number;
	private paused = false;
	private stopping = false;
	private lost = 0;
	private cutLines = 0;
	/** Followed files renamed away (rotation by rename) or removed. */
	private renamedAway = 0;
	private finish: (() => void) | undefined;

	constructor(readonly id: string, readonly config: FileConfig, readonly deps: SourceDeps) {
		this.globs = config.paths.map(p => parseGlob(path.resolve(p)));
		this.pollMs = config.pollMs;
		this.told = new ProblemLog((level, text) => this.handle?.log(level, text));
		const multiline: MultilineOptions = {
			enabled: config.multiline.enabled,
			start: config.multiline.start === undefined ? undefined : compileUserRegex(config.multiline.start, 'multiline.start'),
			maxLines: config.multiline.maxLines,
			maxBytes: deps.maxLine,
		};
		this.tailerOptions = {maxLine: deps.maxLine, multiline, multilineMs: config.multiline.timeoutMs, partialMs: config.partialMs};
		// Compressed files named one by one are a finite input, like stdin.
		if (this.globs.every(g => g.literal && isGzip(g.pattern))) {
			this.ended = new Promise(resolve => {
				this.finish = resolve;
			});
		}
	}

	async start(handle: SourceHandle): Promise<void> {
		this.handle = handle;
		handle.detail('paths', this.globs.map(g => g.pattern));
		handle.setState('connecting');
		await this.scan();
		this.pace(this.pollMs);
	}

	/** Check the files every `ms` from now on (file-poll.ts says how often). */
	private pace(ms: number): void {
		if (this.stopping || (this.pollTimer && ms === this.pollMs)) {
			return;
		}

		clearInterval(this.pollTimer);
		this.pollMs = ms;
		this.pollTimer = setInterval(() => {
			void this.scan();
		}, ms);
	}

	pause = (): void => {
		this.paused = true;
		for (const t of this.tailers.values()) {
			t.pause();
		}

		for (const r of this.retiring.values()) {
			r.tailer.pause();
		}

		for (const c of this.compressed.values()) {
			c.reader?.pause();
		}
	};

	resume = (): void => {
		this.paused = false;
		for (const t of this.tailers.values()) {
			t.resume();
		}

		for (const r of this.retiring.values()) {
			r.tailer.resume();
		}

		for (const c of this.compressed.values()) {
			c.reader?.resume();
		}
	};

	async stop(): Promise<void> {
		if (this.stopping) {
			return;
		}

		this.stopping = true;
		clearInterval(this.pollTimer);
		this.watches.close();
		for (const c of this.compressed.values()) {
			c.reader?.stop();
		}

		await this.scanning;
		await Promise.all([...this.tailers.values(), ...[...this.retiring.values()].map(r => r.tailer)].map(async t => t.close()));
		this.tailers.clear();
		this.retiring.clear();
		this.finish?.();
	}

	/** Expand, compare with what is followed, and act on the difference; one scan at a time. */
	private async scan(): Promise<void> {
		if (this.stopping) {
			return;
		}

		if (this.scanning) {
			this.rescan = true;
			return this.scanning;
		}

		this.scanning = (async () => {
			do {
				this.rescan = false;
				try {
					await this.scanOnce(); // eslint-disable-line no-await-in-loop
				} catch (error) {
					this.handle?.log('error', `scan failed: ${error instanceof Error ? error.message : String(error)}`);
				}
			} while (this.rescan && !this.stopping);
		})().finally(() => {
			this.scanning = undefined;
		});
		return this.scanning;
	}

	private async scanOnce(): Promise<void> {
		const scanned = Date.now();
		type Found = {path: string; size: number; literal: boolean};
		const found = new Map<string, Found>();
		const dirs = new Set<string>();
		/** Directories waiting for the next one of a pattern: watched after the others, so they never take a watch one with files needs. */
		const waiting: string[] = [];
		const problems: Problem[] = [];
		for (const glob of this.globs) {
			const expansion = await expandGlob(glob); // eslint-disable-line no-await-in-loop
			for (const d of expansion.dirs) {
				dirs.add(d);
			}

			waiting.push(...expansion.waiting);

			for (const {dir, reason} of expansion.errors) {
				problems.push({path: dir, reason: `cannot list the directory: ${reason}`});
			}

			// Said as a missing named file is: a typo in a pattern must not look like a quiet log.
			if (!glob.literal && expansion.files.length === 0 && expansion.errors.length === 0) {
				problems.push({path: glob.pattern, reason: noMatch});
			}

			for (const file of expansion.files) {
				let st;
				try {
					// Synchronous: a check of 1,000 idle files costs a fourteenth of the CPU of async stat calls.
					st = statSync(file);
				} catch (error) {
					if (glob.literal) {
						const code = (error as NodeJS.ErrnoException).code;
						problems.push({path: file, reason: code === 'ENOENT' ? 'missing, waiting for it' : describeFileError(error)});
					}

					continue;
				}

				if (!st.isFile()) {
					if (glob.literal) {
						problems.push({path: file, reason: st.isDirectory() ? 'a directory, not a file' : 'not a regular file'});
					}

					continue;
				}

				const key = `${st.dev}:${st.ino}`;
				const had = found.get(key);
				// One file under two names (a symlink `app.log` to `app.log.2024-05-01`): known by the one that is no rotation's.
				if (!had || (this.rotationOf(had.path) && !this.rotationOf(file))) {
					found.set(key, {path: file, size: st.size, literal: glob.literal || (had?.literal ?? false)});
				}
			}
		}

		if (this.first) {
			for (const key of found.keys()) {
				this.atStart.add(key);
			}
		}

		// Keys are device and inode: once a file is gone, its inode may be a new file's, which is new.
		for (const key of this.atStart) {
			if (!found.has(key)) {
				this.atStart.delete(key);
			}
		}

		for (const [key, c] of this.compressed) {
			if (!c.reader && !found.has(key)) {
				this.compressed.delete(key);
			}
		}

		for (const key of this.copies) {
			const f = found.get(key);
			// Gone; or named now as no rotation (the file a symlink `app.log` points to): followed from here.
			if (!f || !this.rotationOf(f.path)) {
				this.copies.delete(key);
			}
		}

		// Files gone from the patterns (renamed away, deleted): read to their end, and kept open while a
		// writer that has not reopened its log yet still adds to them; let go after two poll intervals with
		// nothing new. Nothing here waits for a read: while the bus has paused the sources, scans go on
		// opening the files that rotation creates, so none is missed, and each is read after the one
		// that had its name before (`predecessors`).
		const predecessors = this.predecessors;
		for (const [key, r] of [...this.retiring]) {
			if (found.has(key)) {
				this.retiring.delete(key);
				this.tailers.set(key, r.tailer);
				continue;
			}

			if (this.paused || r.tailer.busy) {
				continue;
			}

			const now = Date.now();
			if (r.tailer.position !== r.position) {
				r.position = r.tailer.position;
				r.grewAt = now;
			} else if (now - r.grewAt >= 2 * this.config.pollMs) {
				this.retiring.delete(key);
				void r.tailer.close();
				continue;
			}

			r.tailer.kick();
		}

		for (const t of [...this.tailers.values()]) {
			if (!found.has(t.key)) {
				const gone = t.path;
				this.precede(gone, t);
				this.tailers.delete(t.key);
				this.retiring.set(t.key, {tailer: t, position: -1, grewAt: Date.now()});
				this.renamedAway++;
				this.handle?.log('info', `${gone}: renamed or removed; read to its end, and let go once nothing more is written to it for a while`);
				await this.missedGenerations(gone, t.seenAt); // eslint-disable-line no-await-in-loop
			}
		}

		// Files still here: follow renames (a renamed file is read to its end before its successor), read what grew.
		for (const [key, f] of found) {
			const t = this.tailers.get(key);
			if (!t) {
				continue;
			}

			const seenAt = t.seenAt;
			t.seenAt = scanned;
			if (t.path !== f.path) {
				const was = t.path;
				this.precede(was, t);
				t.path = f.path;
				// Renamed to a rotation of its name, and found there by a glob that matches the rotations
				// (`app.log*`): files under rotations' names it has not seen, written since its last check,
				// were made under its name and rotated away between two checks, not copied.
				if (path.dirname(f.path) === path.dirname(was) && isRotationOf(path.basename(f.path), path.basename(was))) {
					await this.missedGenerations(was, seenAt); // eslint-disable-line no-await-in-loop
				}
			} else if (f.size !== t.position) {
				t.kick();
			}
		}

		for (const [key, f] of found) {
			if (this.stopping) {
				return;
			}

			if (this.tailers.has(key) || this.retiring.has(key) || this.compressed.has(key) || this.copies.has(key)) {
				continue;
			}

			if (isGzip(f.path)) {
				this.startCompressed(key, f.path, f.literal || (this.first && this.config.fromBeginning));
				continue;
			}

			if (!this.atStart.has(key)) {
				// A glob that matches the rotations too (`app.log*`) finds the copy copy-truncate makes,
				// perhaps while it is still being written, or written over at the next rotation: its lines
				// were read in the file it copies. (A file renamed there is the same inode, followed on.)
				const rotated = this.rotationOf(f.path);
				if (rotated) {
					this.copies.add(key);
					this.handle?.log('info', `${f.path}: new, and named as a rotation of ${rotated.path}: a copy of it (copy-truncate), whose lines were read there; not followed`);
					continue;
				}
			}

			const fromStart = this.atStart.has(key) ? this.config.fromBeginning : true;
			let tailer: FileTailer;
			try {
				tailer = await FileTailer.open(f.path, fromStart, this.tailerOptions, this.sink); // eslint-disable-line no-await-in-loop
			} catch (error) {
				problems.push({path: f.path, reason: describeFileError(error)});
				continue;
			}

			this.atStart.delete(key);
			if (this.tailers.has(tailer.key) || this.retiring.has(tailer.key) || this.stopping) {
				await tailer.close(); // eslint-disable-line no-await-in-loop
				continue;
			}

			tailer.seenAt = scanned;
			this.tailers.set(tailer.key, tailer);
			if (this.paused) {
				tailer.pause();
			}

			const predecessor = predecessors.get(f.path);
			if (predecessor) {
				tailer.readAfter(predecessor);
			}

			tailer.kick();
		}

		const {first} = this;
		this.first = false;
		this.problems = problems;
		this.byPath.clear();
		// Watched first, past the limit: the directories of followed files, then the others read on
		// the way, then those waiting for a pattern's next directory.
		const watched = new Set<string>();
		for (const t of this.tailers.values()) {
			this.byPath.set(t.path, t);
			watched.add(path.dirname(t.path));
		}

		for (const d of [...dirs, ...waiting]) {
			watched.add(d);
		}

		this.watches.set(watched);
		if (this.pollTimer) {
			this.pace(pollInterval({pollMs: this.config.pollMs, dirs: watched, watched: this.watches.size, pending: this.retiring.size + problems.length}));
		}

		this.told.tell(this.problems, first, file => this.byPath.has(file));
		this.showHealth();
	}

	/**
	 * Rotations by rename that came and went between two checks: `file` was renamed, a new file made
	 * under its name, written to and renamed in turn before logmon saw it. Such a file sits beside
	 * `file` under a rotation's name, unknown here, and was written to after `file` was last seen
	 * under its name. Each is read whole, oldest first, before what now has the name.
	 */
	private async missedGenerations(file: string, since: number): Promise<void> {
		const name = path.basename(file);
		const missed = await missedRotations(file, since, key => this.tailers.has(key) || this.retiring.has(key) || this.copies.has(key));
		for (const m of missed) {
			let tailer: FileTailer;
			try {
				tailer = await FileTailer.open(m.path, true, this.tailerOptions, this.sink); // eslint-disable-line no-await-in-loop
			} catch {
				continue;
			}

			if (this.tailers.has(tailer.key) || this.retiring.has(tailer.key)) {
				await tailer.close(); // eslint-disable-line no-await-in-loop
				continue;
			}

			this.handle?.log('info', `${m.path}: a rotation of ${name} made and rotated away between two checks; read whole`);
			if (this.paused) {
				tailer.pause();
			}

			const predecessor = this.predecessors.get(file);
			if (predecessor) {
				tailer.readAfter(predecessor);
			}

			this.precede(file, tailer);
			this.retiring.set(tailer.key, {tailer, position: -1, grewAt: Date.now()});
			tailer.kick();
		}
	}

	/** The file that had the name `file` until now: what comes under that name next is read after it. */
	private precede(file: string, tailer: FileTailer): void {
		const done: Promise<void> = tailer.drain().then(() => {
			tailer.flushHeld();
		}).finally(() => {
			if (this.predecessors.get(file) === done) {
				this.predecessors.delete(file);
			}
		});
		this.predecessors.set(file, done);
	}

	/** The followed file `file` is named as a rotation of, if any. */
	private rotationOf(file: string): FileTailer | undefined {
		return rotationOfOne(file, this.tailers.values());
	}

	private startCompressed(key: string, file: string, read: boolean): void {
		if (!read) {
			this.compressed.set(key, {path: file, state: 'skipped (a compressed rotation; named, or with --from-beginning, it is read whole)'});
			return;
		}

		const reader = new GzipReader(file, this.tailerOptions, this.sink);
		const entry: {path: string; state: string; reader?: GzipReader; failed?: boolean} = {path: file, state: 'reading', reader};
		this.compressed.set(key, entry);
		if (this.paused) {
			reader.pause();
		}

		reader.read().then(() => {
			entry.state = 'read';
		}, (error: unknown) => {
			entry.state = describeFileError(error);
			entry.failed = true;
			this.handle?.log('warn', `${file}: ${entry.state}`);
		}).finally(() => {
			delete (entry as {reader?: GzipReader}).reader;
			this.showHealth();
			const entries = [...this.compressed.values()];
			if (this.finish && entries.every(c => !c.reader) && this.problems.length === 0) {
				// Named .gz files alone, none of which could be read: failed (exit 1), as zcat would.
				const failed = entries.filter(c => c.failed);
				if (failed.length > 0 && failed.length === entries.length) {
					this.handle?.setState('failed', `${failed[0]!.path}: ${failed[0]!.state}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`);
				} else {
					this.handle?.setState('ended');
				}

				this.finish();
			}
		});
	}

	private changed(dir: string, event: string, name: string | undefined): void {
		if (this.stopping) {
			return;
		}

		if (name === undefined) {
			void this.scan();
			return;
		}

		const file = path.join(dir, name);
		const tailer = this.byPath.get(file);
		if (tailer && event === 'change') {
			tailer.kick();
			return;
		}

		// A directory made later may hold matches: the scan lists it, and watches it from then on.
		if (tailer || this.globs.some(g => matchPath(g, file) || (event === 'rename' && mayHoldMatches(g, file)))) {
			void this.scan();
		}
	}

	/** Per file read: its service and proc are worked out once. */
	private readonly origins = new WeakMap<FileReader, Origin>();
	private lastFile: FileReader | undefined;
	private lastOrigin: Origin | undefined;
	private readonly parseError = (reason: string): void => {
		this.handle?.parseError(reason);
	};

	private readonly sink: TailerSink = {
		event: (file, first, rest, trace) => {
			// One read gives many events of one file: the origin and the receive time are looked up once for them.
			let origin = file === this.lastFile ? this.lastOrigin : this.origins.get(file);
			if (!origin) {
				origin = {
					sourceId: this.id,
					sourceKind: this.kind,
					service: this.config.service ?? sanitize(serviceOfFile(file.firstPath)),
					proc: sanitize(path.basename(file.firstPath)),
					receivedAt: 0,
					parseError: this.parseError,
				};
				this.origins.set(file, origin);
			}

			if (this.pending.length === 0 || origin !== this.lastOrigin) {
				origin.receivedAt = Date.now();
				this.lastFile = file;
				this.lastOrigin = origin;
			}

			this.pending.push(eventFromLines(first, rest, trace, origin));
		},
		done: () => {
			this.lastFile = undefined;
			this.lastOrigin = undefined;
			if (this.pending.length > 0 && this.handle) {
				const batch = this.pending;
				this.pending = [];
				this.handle.publish(batch);
			}
		},
		bytes: n => {
			this.handle?.addBytes(n);
		},
		cutLine: (file, bytes) => {
			this.cutLines++;
			this.handle?.parseError(`${file.path}: line longer than the cap, ${bytes} bytes cut`);
		},
		lost: file => {
			this.lost++;
			this.handle?.log('warn', `${file.path}: truncated before it was read to its end, and no rotated copy holds the rest`);
			const now = Date.now();
			this.handle?.gap(now, now);
		},
		copies: rotatedCopies,
		failed: (file, reason) => {
			this.handle?.log('warn', `${file.path}: read failed (${reason}); it is opened again at the next check`);
			const tailer = file instanceof FileTailer ? file : undefined;
			if (tailer) {
				this.tailers.delete(tailer.key);
				this.retiring.delete(tailer.key);
				void tailer.close();
			}
		},
	};

	private showHealth(): void {
		if (this.handle && !this.stopping) {
			showFileHealth(this.handle, {
				problems: this.problems,
				compressed: [...this.compressed.values()],
				tailers: [...this.tailers.values()],
				retiring: this.retiring.size,
				watched: this.watches.size,
				watchErrors: this.watches.errors,
				checkEveryMs: this.pollMs,
				renamedAway: this.renamedAway,
				lost: this.lost,
				retryMs: this.config.pollMs,
			});
		}
	}
}
