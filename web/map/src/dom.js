// DOM helpers. Every string that comes from the data (handles, ids, niche
// names) is set with textContent, never innerHTML, so a handle such as
// "</script><script>alert(1)</script>" is shown as text and never parsed.

export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "style") Object.assign(node.style, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

const integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });

export function fmtInt(value) {
  return value === null || value === undefined ? "–" : integer.format(value);
}

export function fmtNum(value) {
  if (value === null || value === undefined) return "–";
  return Number.isInteger(value) ? integer.format(value) : decimal.format(value);
}

export function fmtScore(value) {
  if (value === null || value === undefined) return "–";
  return value === 0 ? "0" : value.toPrecision(3);
}
