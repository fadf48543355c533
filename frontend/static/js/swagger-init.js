// Starts Swagger UI (/docs) with the settings FastAPI's get_swagger_ui_html uses, read from the page's data
// attributes, so the page needs no inline script. No validator: it would send the description to a third party.
const root = document.getElementById("swagger-ui");
window.ui = window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  oauth2RedirectUrl: new URL(root.dataset.oauth2RedirectUrl, window.location.href).href,
  presets: [window.SwaggerUIBundle.presets.apis],
});
