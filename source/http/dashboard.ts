import {dashboardAssets} from './dashboard-assets.js';
import {HttpError, type Reply} from './reply.js';
import {type Router} from './router.js';

// GET /: the web dashboard, one page with its script and style sheet, served without the token
// (the page asks for it, then calls the API with it). The page's Content-Security-Policy
// (reply.ts) allows scripts, styles and connections from this origin only, and no inline script.

function asset(pick: (a: NonNullable<ReturnType<typeof dashboardAssets>>) => string, type: string): () => Reply {
	return () => {
		const assets = dashboardAssets();
		if (!assets) {
			throw new HttpError(503, 'the dashboard is not built into this logmon: run npm run build');
		}

		return {body: pick(assets), type};
	};
}

export function registerDashboard(router: Router): void {
	const page = asset(a => a.html, 'text/html; charset=utf-8');
	router.get('/', page, {public: true});
	router.get('/index.html', page, {public: true});
	router.get('/assets/dashboard.js', asset(a => a.js, 'text/javascript; charset=utf-8'), {public: true});
	router.get('/assets/dashboard.css', asset(a => a.css, 'text/css; charset=utf-8'), {public: true});
}
