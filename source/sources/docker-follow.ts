import type http from 'node:http';
import {type DockerLine, FrameDemuxer, RawLines} from '../core/docker-frames.js';
import {SeenLines, sinceFromMs, stampKey} from '../core/docker-resume.js';
import {type Container} from '../core/docker-select.js';
import {type Engine} from './docker-engine.js';

// One container's log stream: GET /containers/{id}/logs?follow=1&timestamps=1, read as frames
// or, for a TTY container, raw. The stream ends when the container stops (or the engine goes
// away); following again resumes after the last lines seen, dropping what Docker sends again.

export type FollowerHost = {
	engine: Engine;
	maxLine: number;
	emit(follower: ContainerFollower, lines: DockerLine[]): void;
	/** The stream ended: `failure` when it was refused or broke, undefined when the engine ended it. */
	ended(follower: ContainerFollower, failure: Error | undefined): void;
	addBytes(n: number): void;
	/** Frames with an unknown stream byte, counted as bad input. */
	badFrames(follower: ContainerFollower, n: number): void;
};

/**
 * Where the first read starts: Docker's `since` (Unix seconds) and `tail` (a count or all);
 * `after`, a stamp key (core/docker-resume.ts): lines up to that time were shown before.
 */
export type FirstRead = {since?: string | undefined; tail: string; after?: string | undefined};

export class ContainerFollower {
	readonly seen = new SeenLines();
	/** True while a stream is open (or being opened). */
	following = false;
	/** The exit (its time) this follower has read the logs after, to their end. */
	exitRead: string | undefined;
	/** Reads after that exit made again because they broke. */
	exitRetries = 0;
	/** Logs requests refused (404, 409) in a row. */
	refusals = 0;
	private request: http.ClientRequest | undefined;
	private response: http.IncomingMessage | undefined;
	private generation = 0;
	/** `since` for a resume before any line was seen: when the first read began. */
	private startedAt: string | undefined;
	private paused = false;
	/** Lines up to this stamp key are dropped (a restarted container's previous run), until a later one. */
	private after: string | undefined;

	constructor(public container: Container, private readonly host: FollowerHost, private readonly first: FirstRead) {
		this.after = first.after;
	}

	/** The newest time shown on either stream, as a stamp key: a restart's lines all come after it. */
	lastKey(): string | undefined {
		return this.seen.newestKey();
	}

	get repeats(): number {
		return this.seen.repeats;
	}

	/** Open the stream: the first read, or a resume after what was seen. */
	follow(): void {
		this.close();
		const generation = ++this.generation;
		const query = new URLSearchParams({follow: '1', stdout: '1', stderr: '1', timestamps: '1'});
		if (this.startedAt === undefined) {
			this.startedAt = this.first.since ?? sinceFromMs(Date.now());
			query.set('tail', this.first.tail);
			if (this.first.since !== undefined) {
				query.set('since', this.first.since);
			}
		} else {
			query.set('tail', 'all');
			query.set('since', this.seen.startResume() ?? this.startedAt);
		}

		const decoder = this.container.tty
			? new RawLines({maxLine: this.host.maxLine, timestamps: true})
			: new FrameDemuxer({maxLine: this.host.maxLine, timestamps: true});
		let done = false;
		const finish = (failure: Error | undefined): void => {
			if (done || generation !== this.generation) {
				return;
			}

			done = true;
			this.following = false;
			this.request = undefined;
			this.response = undefined;
			this.deliver(decoder.end());
			this.host.ended(this, failure);
		};

		let bad = 0;
		this.following = true;
		this.request = this.host.engine.stream(`/containers/${encodeURIComponent(this.container.id)}/logs?${query.toString()}`, response => {
			this.response = response;
			if (this.paused) {
				response.pause();
			}

			response.on('data', (chunk: Buffer) => {
				if (generation !== this.generation) {
					return;
				}

				this.host.addBytes(chunk.length);
				this.deliver(decoder.push(chunk));
				if (decoder instanceof FrameDemuxer && decoder.badFrames > bad) {
					this.host.badFrames(this, decoder.badFrames - bad);
					bad = decoder.badFrames;
				}
			});
			response.on('end', () => {
				finish(undefined);
			});
			response.on('error', finish);
			response.on('close', () => {
				finish(response.complete ? undefined : new Error('the connection closed'));
			});
		}, finish);
	}

	pause(): void {
		this.paused = true;
		this.response?.pause();
	}

	resume(): void {
		this.paused = false;
		this.response?.resume();
	}

	/** Close the stream; nothing more is delivered from it. */
	close(): void {
		this.generation++;
		this.following = false;
		this.request?.destroy();
		this.request = undefined;
		this.response = undefined;
	}

	private deliver(lines: DockerLine[]): void {
		if (lines.length === 0) {
			return;
		}

		const fresh: DockerLine[] = [];
		for (const line of lines) {
			if (this.after !== undefined) {
				const key = stampKey(line.stamp);
				if (key !== undefined && key <= this.after) {
					continue;
				}

				this.after = undefined;
			}

			if (this.seen.isRepeat(line.stamp, line.stream, line.text.length)) {
				continue;
			}

			this.seen.add(line.stamp, line.stream, line.text.length);
			fresh.push(line);
		}

		if (fresh.length > 0) {
			this.host.emit(this, fresh);
		}
	}
}
