// The console's shell: a header with one link per page and the page the URL's hash names.
// Hash routes (#/score, ...) keep the gateway's side to one document at /.
import './style.css';
import type { ComponentChildren } from 'preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { FilePage } from './pages/file.js';
import { LivePage } from './pages/live.js';
import { ModelsPage } from './pages/models.js';
import { ScorePage } from './pages/score.js';
import { WhatIfPage } from './pages/what-if.js';

interface Page {
  readonly path: string;
  readonly title: string;
  readonly view: () => ComponentChildren;
}

const PAGES: readonly Page[] = [
  { path: 'score', title: 'Score', view: () => <ScorePage /> },
  { path: 'what-if', title: 'What would change it', view: () => <WhatIfPage /> },
  { path: 'file', title: 'Score a file', view: () => <FilePage /> },
  { path: 'models', title: 'Models', view: () => <ModelsPage /> },
  { path: 'live', title: 'Live', view: () => <LivePage /> },
];

function currentPath(): string {
  const path = location.hash.replace(/^#\/?/, '');
  return PAGES.some((p) => p.path === path) ? path : PAGES[0]!.path;
}

function App() {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const onHash = () => setPath(currentPath());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const page = PAGES.find((p) => p.path === path)!;
  useEffect(() => {
    document.title = `${page.title} · ortline console`;
  }, [page]);
  return (
    <>
      <header>
        <span class="brand">ortline</span>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a key={p.path} href={`#/${p.path}`} aria-current={p.path === path ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
      </header>
      <main id="main">
        <h1>{page.title}</h1>
        {page.view()}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
