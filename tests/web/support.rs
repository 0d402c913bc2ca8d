//! What every browser test module needs: the document and browser-timer waits.

pub fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Waits `ms` milliseconds (a browser timer).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Lets effects, the router, IndexedDB and file reads run: one macrotask.
pub async fn tick() {
    sleep(10).await;
}

/// The page's IndexedDB factory (for tests that open databases by hand).
pub fn factory() -> web_sys::IdbFactory {
    web_sys::window().unwrap().indexed_db().unwrap().unwrap()
}

/// Resolves with the result of a raw IndexedDB request.
pub async fn raw_request(
    req: &web_sys::IdbRequest,
) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let ok = req.clone();
        let on_success = wasm_bindgen::closure::Closure::once_into_js(move |_: web_sys::Event| {
            resolve
                .call1(&wasm_bindgen::JsValue::NULL, &ok.result().unwrap())
                .unwrap();
        });
        let on_error = wasm_bindgen::closure::Closure::once_into_js(move |_: web_sys::Event| {
            reject.call0(&wasm_bindgen::JsValue::NULL).unwrap();
        });
        req.set_onsuccess(Some(wasm_bindgen::JsCast::unchecked_ref(&on_success)));
        req.set_onerror(Some(wasm_bindgen::JsCast::unchecked_ref(&on_error)));
    });
    wasm_bindgen_futures::JsFuture::from(promise).await
}
