import {registerGroups} from './api-groups.js';
import {registerHealth} from './api-health.js';
import {registerLogs} from './api-logs.js';
import {registerSeries} from './api-series.js';
import {registerStats} from './api-stats.js';
import {registerStream} from './api-stream.js';
import {registerDashboard} from './dashboard.js';
import {Router} from './router.js';
import {registerGrafana} from './grafana.js';

// Every route of the HTTP server, one concern per file: a new concern adds its file and a line here.

export function createRouter(): Router {
	const router = new Router();
	registerGrafana(router);
	registerHealth(router);
	registerLogs(router);
	registerStats(router);
	registerGroups(router);
	registerStream(router);
	registerSeries(router);
	registerDashboard(router);
	return router;
}
