// Starts ReDoc (/redoc) with the OpenAPI description named by the page, so the page needs no inline script.
const root = document.getElementById("redoc");
window.Redoc.init(root.dataset.openapiUrl, {}, root);
