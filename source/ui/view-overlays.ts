import {type LogEvent} from '../core/event.js';
import {describeRedaction} from '../core/redact.js';
import {isoTime} from '../core/time.js';
import {eventLines} from './event-rows.js';
import {keybindings} from './keybindings.js';
import {type Ctx, type PaneView, messageStyle, pane, title} from './view-common.js';
import {type Segment, chunks, cut, cutSegments, fit, safe, width} from './text.js';

// What covers the panes: the key list (`?`) and an event in full (Enter on an error group).

export function helpOverlay(ctx: Ctx, w: number, h: number): PaneView {
	const entries = keybindings.filter(b => b.context !== 'prompt').map(b => {
		const keys = b.keys.length > 3 ? `${b.keys[0]}-${b.keys.at(-1)}` : b.keys.join(' ');
		const where = b.context === 'global' ? '' : ` (${b.context})`;
		return {keys, text: b.description + where};
	});
	const prompt = keybindings.filter(b => b.context === 'prompt').map(b => `${b.keys.join(' ')} ${b.description}`).join(' · ');
	const rows = h - 3;
	const columns = Math.max(1, Math.ceil(entries.length / rows));
	const colWidth = Math.floor(w / columns);
	// Each column's keys as wide as its longest and a space, leaving its texts 10 columns at least (half
	// the column where it is narrower): keys are what the overlay is for, whole wherever they can be.
	const keyWidths = Array.from({length: columns}, (_, col) => Math.min(
		Math.max(0, ...entries.slice(col * rows, (col + 1) * rows).map(e => width(e.keys))) + 1,
		Math.max(Math.floor(colWidth / 2), colWidth - 10),
	));
	const lines: string[] = [];
	for (let r = 0; r < rows; r++) {
		const segs: Segment[] = [];
		for (let col = 0; col < columns; col++) {
			const e = entries[(col * rows) + r];
			if (!e) {
				continue;
			}

			segs.push({text: cell(e.keys, keyWidths[col]!), style: {color: 'cyan', bold: true}}, {text: cell(e.text, colWidth - keyWidths[col]!)});
		}

		if (segs.length > 0) {
			lines.push(ctx.p.paint(cutSegments(segs, w)));
		}
	}

	lines.push(ctx.p.style(cut(`in a prompt: ${prompt}`, w), {dim: true}));
	// Each redaction rule's hits (the health of the redaction stage).
	const redactor = ctx.m.deps.bus.redactor;
	const redaction = redactor ? describeRedaction(redactor.health()) ?? 'nothing yet' : 'off (--no-redact)';
	const thread = ctx.m.deps.bus.redactionThread;
	const where = redactor && thread !== undefined ? (thread === 'thread' ? ' · rules scanned on a second thread' : ` · second thread ${thread}`) : '';
	lines.push(ctx.p.style(cut(`redacted: ${safe(redaction)}${safe(where)}`, w), {color: 'magenta'}));
	const t = title(ctx, 'overlay', 'Keys', w, [{text: ' ? or Esc to close', style: {dim: true}}]);
	return pane('overlay', w, h, t, lines);
}

/** `text` in exactly `columns`, its last one left blank to part it from the next cell; cut with an ellipsis. */
function cell(text: string, columns: number): string {
	if (columns <= 1) {
		return ' '.repeat(Math.max(0, columns));
	}

	return fit(width(text) < columns ? text : `${cut(text, columns - 2)}…`, columns);
}

export function detailOverlay(ctx: Ctx, e: LogEvent, w: number, h: number): PaneView {
	const fields: Array<[string, string]> = [
		['time', isoTime(e.time)],
		['received', isoTime(e.receivedAt)],
		['source', `${e.sourceId} (${e.sourceKind})`],
		['service', e.service],
		['host', e.host],
		['proc', e.proc],
		['type', e.type],
		['level', e.level],
		['status', e.status === undefined ? '' : String(e.status)],
		['seq', String(e.seq)],
	];
	const lines: string[] = [];
	for (const [k, v] of fields) {
		if (v) {
			lines.push(ctx.p.paint(cutSegments([{text: fit(k, 10), style: {dim: true}}, {text: v}], w)));
		}
	}

	lines.push('');
	// A multi-line event line by line, each wrapped to the width.
	for (const line of eventLines(e, Number.POSITIVE_INFINITY).lines) {
		for (const part of chunks(line, w, Math.max(0, h - 1 - lines.length))) {
			lines.push(ctx.p.style(part, messageStyle(e)));
		}
	}

	const t = title(ctx, 'overlay', 'Latest occurrence', w, [{text: ' Esc or Enter to close · marked ▶ in the tail', style: {dim: true}}]);
	return pane('overlay', w, h, t, lines.slice(0, h - 1));
}
