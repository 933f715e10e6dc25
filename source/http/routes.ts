import {registerGroups} from './api-groups.js';
import {registerHealth} from './api-health.js';
import {registerLogs} from './api-logs.js';
import {registerStats} from './api-stats.js';
import {registerStream} from './api-stream.js';
import {Router} from './router.js';

// Every route of the HTTP server, one concern per file: a new concern adds its file and a line here.

export function createRouter(): Router {
	const router = new Router();
	registerHealth(router);
	registerLogs(router);
	registerStats(router);
	registerGroups(router);
	registerStream(router);
	return router;
}
