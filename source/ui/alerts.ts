import {type AlertNotice} from '../core/alert-notice.js';
import {type Move} from './navigation.js';
import {type AlertsModel, type UiState, alertRows} from './state.js';

// The UI's part in alerting: a notice shows in the hint line for a while (the banner)
// and rings the bell when something starts firing; `A` opens the list of what fires and
// what resolved; `m` silences the selected rule for an hour, or lifts its silence.

/** How long `m` silences a rule. */
export const silenceMs = 3_600_000;
/** How long a notice stays in the hint line. */
const bannerMs = {firing: 15_000, resolved: 8000};

export function showNotice(s: UiState, notice: AlertNotice, now: number, bell: (() => void) | undefined): void {
	s.banner = {notice, until: now + bannerMs[notice.status]};
	if (notice.status === 'firing') {
		bell?.();
	}
}

export function moveAlertSelection(s: UiState, alerts: AlertsModel | undefined, action: Move, height: number): void {
	const length = alerts ? alertRows(alerts.snapshot()).length : 0;
	const page = Math.max(1, height - 3);
	const i = s.selected.alerts;
	const next = {up: i - 1, down: i + 1, 'page-up': i - page, 'page-down': i + page, top: 0, bottom: length - 1}[action];
	s.selected.alerts = Math.max(0, Math.min(length - 1, next));
}

/** `m`: silence the selected row's rule for an hour, or lift its silence. */
export function silenceSelected(s: UiState, alerts: AlertsModel | undefined, now: number, notify: (text: string) => void): void {
	const snapshot = alerts?.snapshot();
	const row = snapshot ? alertRows(snapshot)[s.selected.alerts] : undefined;
	if (!alerts || !snapshot || !row) {
		notify('no alert selected');
		return;
	}

	const {rule} = row.notice;
	const silenced = snapshot.rules.find(r => r.name === rule)?.silencedUntil !== undefined;
	alerts.silence(rule, silenced ? 0 : now + silenceMs);
	notify(silenced ? `${rule}: silence lifted` : `${rule}: silenced for 1 h (still shown here, not sent)`);
}
