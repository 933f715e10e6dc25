import {bodyOf, byId, clock, count, el} from './dom.js';
import {type ApiEvent} from './types.js';

// The live tail: newest on top, at most `maxRows` rows. Events arrive one by one from the stream;
// they are put on the page in batches, four times a second, so a burst costs one layout. No one reads
// more than a few hundred lines a second: past `maxPerFlush` per batch, the older ones of the batch
// are counted as passed by, not drawn (drawing rows is what costs; a stream of thousands a second
// would otherwise keep the page busy).

const maxRows = 500;
const flushMs = 250;
const maxPerFlush = 100;

export class Tail {
	private readonly body = bodyOf('tail');
	private pending: ApiEvent[] = [];
	private timer: ReturnType<typeof setTimeout> | undefined;
	private paused = false;
	private received = 0;
	private skipped = 0;

	constructor() {
		const button = byId<HTMLButtonElement>('pause');
		button.addEventListener('click', () => {
			this.paused = !this.paused;
			button.textContent = this.paused ? 'Resume' : 'Pause';
			if (!this.paused) {
				this.schedule();
			}
		});
	}

	/** Empty the tail (a new filter). */
	reset(): void {
		this.pending = [];
		this.body.replaceChildren();
		this.received = 0;
		this.skipped = 0;
		this.notice(undefined);
		this.showCount();
	}

	/** The most recent events, oldest first, drawn at once: where the stream then goes on. */
	fill(events: readonly ApiEvent[]): void {
		this.received += events.length;
		this.body.prepend(...events.slice(-maxRows).map(e => row(e)).reverse());
		this.showCount();
	}

	add(e: ApiEvent): void {
		this.received++;
		this.pending.push(e);
		if (this.pending.length > maxPerFlush) {
			this.skipped += this.pending.length - maxPerFlush;
			this.pending.splice(0, this.pending.length - maxPerFlush);
		}

		this.schedule();
	}

	/** A line above the tail: lost events, a bad filter, a reconnect. */
	notice(text: string | undefined): void {
		const p = byId('tail-notice');
		p.hidden = text === undefined;
		p.textContent = text ?? '';
	}

	private schedule(): void {
		if (this.timer === undefined && !this.paused) {
			this.timer = setTimeout(() => {
				this.timer = undefined;
				this.flush();
			}, flushMs);
		}
	}

	private flush(): void {
		if (this.paused || this.pending.length === 0) {
			return;
		}

		const rows = this.pending.map(e => row(e)).reverse();
		this.pending = [];
		this.body.prepend(...rows);
		while (this.body.rows.length > maxRows) {
			this.body.lastElementChild!.remove();
		}

		this.showCount();
	}

	private showCount(): void {
		byId('tail-count').textContent = this.received === 0 ? '' : `${count(this.received)} received${this.skipped > 0 ? `, ${count(this.skipped)} passed by too fast to show` : ''}`;
	}
}

function row(e: ApiEvent): HTMLTableRowElement {
	const tr = el('tr', {className: `lvl-${e.level}${e.marker ? ` marker-${e.marker}` : ''}`},
		el('td', {className: 'time', text: clock(Date.parse(e.time)), title: `event time ${e.time}, received ${e.receivedAt}`}),
		el('td', {className: 'level', text: e.level}),
		el('td', {className: 'service', text: e.service}),
		el('td', {className: 'host', text: e.host}),
		el('td', {className: 'message', text: e.message}),
	);
	tr.dataset['id'] = e.id;
	return tr;
}
