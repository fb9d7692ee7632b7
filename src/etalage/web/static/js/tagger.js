// Tagging products on an upload: search the catalog (the public products API) and pick results.
import { api, messages } from './api.js';

const t = messages();
const box = document.getElementById('tagger');
const chosen = new Map();

function sync() {
  document.getElementById('f-products').value = [...chosen.keys()].join(' ');
  const list = document.getElementById('tagged');
  list.replaceChildren(...[...chosen].map(([id, title]) => {
    const li = document.createElement('li');
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'btn small';
    remove.textContent = `${t.untag} · ${title}`;
    remove.addEventListener('click', () => { chosen.delete(id); sync(); });
    li.append(remove);
    return li;
  }));
}

let timer = null;
async function search(query) {
  const results = document.getElementById('product-results');
  if (query.length < 2) { results.replaceChildren(); return; }
  const params = new URLSearchParams({ region: box.dataset.region, q: query, limit: '8' });
  let page;
  try { page = await api('GET', `/api/v1/products?${params}`); } catch (e) { return; }
  results.replaceChildren(...page.items.map((product) => {
    const li = document.createElement('li');
    const add = document.createElement('button');
    add.type = 'button';
    add.className = 'btn small';
    add.textContent = `${t.tag} · ${product.title}`;
    add.dataset.product = product.id;
    add.addEventListener('click', () => { chosen.set(product.id, product.title); sync(); });
    li.append(add);
    return li;
  }));
}

if (box) {
  document.getElementById('f-product-search').addEventListener('input', (event) => {
    clearTimeout(timer);
    timer = setTimeout(() => search(event.target.value.trim()), 250);
  });
}
