// The shapes of logmon's API answers that the dashboard reads (see the README's HTTP section).

export type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'NOTICE' | 'WARN' | 'ERROR' | 'CRITICAL';

/** An event in the `-o json` shape, with its id. */
export type ApiEvent = {
	id: string;
	seq: number;
	time: string;
	receivedAt: string;
	source: string;
	kind: string;
	service: string;
	host: string;
	proc: string;
	type: string;
	level: Level;
	status?: number;
	message: string;
	marker?: 'gap' | 'alert';
};

export type EventsAnswer = {from: string; events: ApiEvent[]};

export type GroupsAnswer = {
	from: string;
	total: number;
	groupCount: number;
	partial?: boolean;
	groups: Array<{
		fingerprint: string;
		count: number;
		level: Level;
		firstSeen: string;
		lastSeen: string;
		services: string[];
		moreServices: number;
		buckets: {bucketMs: number; counts: number[]};
		sample: ApiEvent;
	}>;
};

export type ServiceRow = {
	service: string;
	total: number;
	errors: number;
	errorRate: number;
	lastSeen: string | null;
	eventsPerSecond: number | null;
};

export type StatsAnswer = {
	from: string;
	partial?: boolean;
	total: number;
	errors: number;
	errorRate: number;
	services: ServiceRow[];
	eventsPerSecond: Record<string, number>;
	errorsPerSecond: Record<string, number>;
};

export type SeriesAnswer = {
	from: string;
	partial?: boolean;
	countedFrom?: string;
	since: string;
	until: string;
	stepMs: number;
	events: number[];
	errors: number[];
};

export type HealthAnswer = {
	status: string;
	version: string;
	uptimeSeconds: number;
	sources: Array<{
		id: string;
		kind: string;
		state: string;
		reason?: string;
		events: number;
		drops: number;
		parseErrors: number;
		reconnects: number;
		lastEventAt?: string;
	}>;
	history: {state: string; reason?: string};
	memory: {events: number; capacity: number; evicted: number};
	/** The forwarders; counts absent until the forwarder has any. */
	forward?: Array<{
		name: string;
		state: string;
		reason?: string;
		retryAt?: string;
		sent?: number;
		queued?: number;
		spooled?: number;
		dropped?: number;
		deadLettered?: number;
	}>;
};
