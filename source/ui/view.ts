import {type Layout} from './layout.js';
import {type UiModel} from './state.js';
import {Painter} from './text.js';
import {type Ctx, type PaneView} from './view-common.js';
import {alertsOverlay} from './view-alerts.js';
import {helpOverlay, detailOverlay} from './view-overlays.js';
import {hintLine, statusLine} from './view-footer.js';
import {errorsPane, statsPane, togglesPane} from './view-lists.js';
import {tailPane} from './view-tail.js';

// Turns the UI's state and the store/aggregates into the strings of one frame:
// only the rows that fit, already cut to width and coloured. It reads the
// model (state.ts) and never the controller.
//   view-tail.ts      the live tail
//   view-lists.ts     errors, services, toggles
//   view-overlays.ts  help, an event in full
//   view-alerts.ts    the alerts list
//   view-footer.ts    status bar and hint/prompt line
//   view-common.ts    pane shape, colours, formatters

export type {PaneView} from './view-common.js';

export type View = {
	layout: Layout;
	tail: PaneView | undefined;
	others: PaneView[];
	overlay: PaneView | undefined;
	status: string;
	hint: string;
	/** The whole frame as text, to tell whether anything changed. */
	text: string;
};

export function buildView(m: UiModel, now: number): View {
	const p = new Painter(m.deps.colorLevel);
	const ctx: Ctx = {m, p, now};
	const layout = m.layout();
	const s = m.state;
	let tail: PaneView | undefined;
	let others: PaneView[] = [];
	let overlay: PaneView | undefined;
	if (s.help) {
		overlay = helpOverlay(ctx, layout.width, layout.bodyHeight);
	} else if (s.detail) {
		overlay = detailOverlay(ctx, s.detail, layout.width, layout.bodyHeight);
	} else if (s.alertsOpen) {
		overlay = alertsOverlay(ctx, layout.width, layout.bodyHeight);
	} else {
		tail = layout.tail ? tailPane(ctx, layout.tail.width, layout.tail.height) : undefined;
		others = layout.others.map(box => {
			switch (box.id) {
				case 'errors': {
					return errorsPane(ctx, box.width, box.height);
				}

				case 'stats': {
					return statsPane(ctx, box.width, box.height);
				}

				case 'toggles': {
					return togglesPane(ctx, box.width, box.height);
				}

				case 'tail': {
					return tailPane(ctx, box.width, box.height);
				}
			}
		});
	}

	const status = statusLine(ctx, layout.width);
	const hint = hintLine(ctx, layout.width);
	const parts = [tail?.key ?? '', ...others.map(o => o.key), overlay?.key ?? '', status, hint, `${layout.width}x${layout.height}:${layout.arrangement}`, layout.tooSmall ?? ''];
	return {layout, tail, others, overlay, status, hint, text: parts.join('\u0000')};
}
