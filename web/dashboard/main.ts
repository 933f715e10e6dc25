import {ApiError, getJson} from './api.js';
import {byId} from './dom.js';
import {renderGroups} from './groups.js';
import {renderHealth} from './health.js';
import {renderSeries, renderStats} from './services.js';
import {type Stream, openStream} from './sse.js';
import {Tail} from './tail.js';
import {type ApiEvent, type EventsAnswer, type GroupsAnswer, type HealthAnswer, type SeriesAnswer, type StatsAnswer} from './types.js';
import {type ChartWindow, apiQuery, readState, writeState} from './url-state.js';

// The dashboard: the live tail over the SSE stream (no polling), and around it the error groups,
// per-service statistics, the events/s chart and source health, refreshed every few seconds.
// The filter, the window and the chart's service live in the URL.

const panelsMs = 5000;
const state = readState();
const tail = new Tail();
const filterInput = byId<HTMLInputElement>('filter');
const windowSelect = byId<HTMLSelectElement>('window');
const serviceSelect = byId<HTMLSelectElement>('chart-service');
const badge = byId('connection');
let stream: Stream | undefined;
/** Bumped by each new filter: answers to an older one are dropped. */
let generation = 0;

filterInput.value = state.q;
windowSelect.value = state.window;

function showFilterError(text: string | undefined): void {
	const p = byId('filter-error');
	p.hidden = text === undefined;
	p.textContent = text ?? '';
	filterInput.classList.toggle('invalid', text !== undefined);
}

function setBadge(text: string, className: string): void {
	badge.textContent = text;
	badge.className = `badge ${className}`;
}

function onEvent(data: string): void {
	let e: ApiEvent;
	try {
		e = JSON.parse(data) as ApiEvent;
	} catch {
		return;
	}

	tail.add(e);
	if (e.level === 'ERROR' || e.level === 'CRITICAL') {
		soon(refreshGroups);
	}
}

/** The tail for the current filter: its most recent events, then live from the newest of them on. */
async function restart(): Promise<void> {
	const gen = ++generation;
	stream?.close();
	stream = undefined;
	tail.reset();
	writeState(state);
	let recent: EventsAnswer;
	try {
		recent = await getJson<EventsAnswer>(`/api/v1/logs/events${apiQuery(state.q, {limit: '100'})}`);
	} catch (error) {
		if (gen === generation) {
			if (error instanceof ApiError && error.status === 400) {
				showFilterError(error.message);
				setBadge('bad filter', 'error');
			} else {
				tail.notice(`Recent events could not be read: ${(error as Error).message}`);
			}
		}

		return;
	}

	if (gen !== generation) {
		return;
	}

	showFilterError(undefined);
	tail.fill(recent.events.toReversed());

	// Last-Event-ID: the stream goes on right after the newest event shown, nothing twice.
	stream = openStream(`/api/v1/stream${apiQuery(state.q)}`, {
		onEvent,
		onLoss(data) {
			const loss = JSON.parse(data) as {message?: string};
			tail.notice(loss.message ?? 'Some events were not sent.');
		},
		onState(s, detail) {
			setBadge(detail ? `${s}: ${detail}` : s, s);
		},
	}, recent.events[0]?.id);
	void refreshAll(true);
}

async function panel<T>(path: string, note: string, render: (answer: T) => void): Promise<void> {
	const gen = generation;
	try {
		const answer = await getJson<T>(path);
		if (gen === generation) {
			render(answer);
		}
	} catch (error) {
		if (gen === generation && !(error instanceof ApiError && error.parameter === 'q')) {
			byId(note).textContent = `could not be read: ${(error as Error).message}`;
		}
	}
}

async function refreshGroups(): Promise<void> {
	await panel<GroupsAnswer>(`/api/v1/logs/groups${apiQuery(state.q, {limit: '20'})}`, 'groups-note', renderGroups);
}

async function refreshSeries(): Promise<void> {
	seriesAt = Date.now();
	await panel<SeriesAnswer>(`/api/v1/logs/series${apiQuery(state.q, {since: state.window, ...(state.service ? {service: state.service} : {})})}`, 'chart-note', answer => {
		seriesStepMs = answer.stepMs;
		renderSeries(answer);
	});
}

/** The chart changes by a step at a time: it is asked for again once a step (5 s to a minute) has gone by. */
let seriesAt = 0;
let seriesStepMs = 5000;

async function refreshAll(force = false): Promise<void> {
	const chart = force || Date.now() - seriesAt >= Math.min(60_000, seriesStepMs);
	await Promise.all([
		refreshGroups(),
		chart ? refreshSeries() : undefined,
		panel<StatsAnswer>(`/api/v1/logs/stats${apiQuery(state.q)}`, 'totals', answer => {
			renderStats(answer, pickService);
		}),
		panel<HealthAnswer>('/api/v1/health', 'health-note', renderHealth),
	]);
}

const soonTimers = new Map<() => Promise<void>, ReturnType<typeof setTimeout>>();

/** Run a refresh in a second, once however often it is asked for meanwhile. */
function soon(refresh: () => Promise<void>): void {
	if (!soonTimers.has(refresh)) {
		soonTimers.set(refresh, setTimeout(() => {
			soonTimers.delete(refresh);
			void refresh();
		}, 1000));
	}
}

function pickService(service: string): void {
	state.service = service;
	serviceSelect.value = service;
	writeState(state);
	void refreshSeries();
}

let typing: ReturnType<typeof setTimeout> | undefined;
function applyFilter(): void {
	clearTimeout(typing);
	if (filterInput.value.trim() !== state.q.trim()) {
		state.q = filterInput.value.trim();
		void restart();
	}
}

// A click on a cut row of the tail or the error groups shows all of it.
byId('tail').addEventListener('click', event => {
	(event.target as Element).closest('tbody tr')?.classList.toggle('open');
});
byId('groups').addEventListener('click', event => {
	(event.target as Element).closest('tbody')?.classList.toggle('open');
});

byId<HTMLFormElement>('filter-form').addEventListener('submit', event => {
	event.preventDefault();
	applyFilter();
});
filterInput.addEventListener('input', () => {
	clearTimeout(typing);
	typing = setTimeout(applyFilter, 600);
});
windowSelect.addEventListener('change', () => {
	state.window = windowSelect.value as ChartWindow;
	writeState(state);
	void refreshSeries();
});
serviceSelect.addEventListener('change', () => {
	pickService(serviceSelect.value);
});

// The panels other than the tail are summaries: refreshed every few seconds while the page is seen.
let busy = false;
setInterval(() => {
	if (!busy && document.visibilityState === 'visible') {
		busy = true;
		void refreshAll().finally(() => {
			busy = false;
		});
	}
}, panelsMs);

if (state.service) {
	const option = document.createElement('option');
	option.value = state.service;
	option.textContent = state.service;
	serviceSelect.append(option);
	serviceSelect.value = state.service;
}

void restart();
