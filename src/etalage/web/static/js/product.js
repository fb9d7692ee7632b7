// The product page: the same buy form as the sheet over a video.
import { wireBuy } from './buy.js';

const root = document.querySelector('.product');
if (root) wireBuy(root, {});
