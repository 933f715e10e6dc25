import {registerHealth} from './api-health.js';
import {registerDashboard} from './dashboard.js';
import {Router} from './router.js';

// Every route of the HTTP server, one concern per file: a new concern adds its file and a line here.

export function createRouter(): Router {
	const router = new Router();
	registerHealth(router);
	registerDashboard(router);
	return router;
}
