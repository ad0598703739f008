// The commitments API's GraphiQL page (index.html, served at /graphql by app/api/graphiql.py).
// Its settings come from the page's JSON block "graphiql-config":
//   query:   the editor's first query (GraphiQL keeps the visitor's own ones in the browser after)
//   headers: optional, the headers editor's text, e.g. the embedded mode's Authorization header
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var props = {
    // Queries go to the address that served this page; no subscriptions, so no WebSocket.
    fetcher: GraphiQL.createFetcher({ url: window.location.pathname }),
    defaultQuery: config.query,
    plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    inputValueDeprecation: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false, // an API key stays out of the browser's localStorage
    defaultEditorToolsVisibility: config.headers ? "headers" : true,
  };
  if (config.headers) {
    props.headers = config.headers;
  }
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, props),
  );
})();
