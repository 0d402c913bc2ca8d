//! The Estimate page's episode media section: keyframes, clips on two video models and dubbing
//! for one episode, priced from the shipped catalog's billing shapes, with the cost per episode
//! and per finished minute under every profile, in $ and ¥. Built in its own lazy chunk.
//!
//! The form is kept on this device (`localStorage`, key [`STORE_KEY`]) so a reload loses nothing.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::cost::billing::MediaKind;
use crate::domain::cost::catalog::{find, shipped, CatalogEntry};
use crate::domain::cost::episode_media::{
    resolutions, ClipLine, DubbingLine, EpisodeMedia, KeyframeLine,
};
use crate::domain::cost::money::format_count;
use crate::ui::i18n::{t, use_lang};
use crate::ui::state::use_app_state;
use crate::web::prefs;

/// Where the form is kept.
pub const STORE_KEY: &str = "duanju.episode-media.v1";

/// The form as typed: every number as its text, so a half-typed value is kept as it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct MediaForm {
    frame_model: String,
    frames_per_shot: String,
    frame_takes: String,
    frame_size: String,
    frame_quality: String,
    clips: [ClipForm; 2],
    voice_model: String,
    characters: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ClipForm {
    model: String,
    shots: String,
    seconds: String,
    resolution: String,
    takes: String,
}

fn first_of(catalog: &[CatalogEntry], kind: MediaKind, skip: usize) -> String {
    catalog
        .iter()
        .filter(|entry| {
            entry.billing.media() == kind
                && entry.retired.is_none()
                && !entry.seed_only
                && entry.is_priced()
        })
        .nth(skip)
        .map(|entry| entry.model.clone())
        .unwrap_or_default()
}

fn first_resolution(catalog: &[CatalogEntry], model: &str) -> String {
    catalog
        .iter()
        .find(|entry| entry.model == model)
        .and_then(|entry| resolutions(&entry.billing).into_iter().next())
        .unwrap_or_default()
}

impl MediaForm {
    /// A 47-shot episode: one keyframe per shot, two takes of every clip, 3,000 characters of
    /// dialogue, on the catalog's first current models of each kind.
    fn starting(catalog: &[CatalogEntry]) -> MediaForm {
        let clip = |skip: usize, shots: &str, seconds: &str| {
            let model = first_of(catalog, MediaKind::Video, skip);
            ClipForm {
                resolution: first_resolution(catalog, &model),
                model,
                shots: shots.into(),
                seconds: seconds.into(),
                takes: "2".into(),
            }
        };
        MediaForm {
            frame_model: first_of(catalog, MediaKind::Image, 0),
            frames_per_shot: "1".into(),
            frame_takes: "2".into(),
            frame_size: "1024x1536".into(),
            frame_quality: "medium".into(),
            clips: [clip(0, "10", "6"), clip(1, "37", "5")],
            voice_model: first_of(catalog, MediaKind::Speech, 0),
            characters: "3000".into(),
        }
    }

    /// The episode the form describes, or the first field that is not a whole number.
    fn episode(&self) -> Result<EpisodeMedia, &'static str> {
        fn count(text: &str, field: &'static str) -> Result<u32, &'static str> {
            text.trim().parse::<u32>().map_err(|_| field)
        }
        let clips = self
            .clips
            .iter()
            .map(|clip| {
                Ok::<ClipLine, &'static str>(ClipLine {
                    model: clip.model.clone(),
                    shots: count(&clip.shots, "shots")?,
                    seconds: count(&clip.seconds, "seconds")?,
                    resolution: clip.resolution.clone(),
                    takes: count(&clip.takes, "takes")?,
                    audio: false,
                    frame: Some((1280, 720, 24)),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EpisodeMedia {
            keyframes: Some(KeyframeLine {
                model: self.frame_model.clone(),
                frames_per_shot: count(&self.frames_per_shot, "frames")?,
                takes: count(&self.frame_takes, "takes")?,
                size: self.frame_size.clone(),
                quality: Some(self.frame_quality.clone()),
            }),
            clips,
            dubbing: vec![DubbingLine {
                model: self.voice_model.clone(),
                characters: u64::from(count(&self.characters, "characters")?),
                seconds: None,
                takes: 1,
            }],
        })
    }
}

/// A select of the catalog's models of one kind, each labelled with its billing shape.
fn model_select(
    catalog: StoredValue<Vec<CatalogEntry>>,
    id: String,
    kind: MediaKind,
    value: Signal<String>,
    set: Callback<String>,
) -> impl IntoView {
    let label = match kind {
        MediaKind::Image => t("图像模型", "Image model"),
        MediaKind::Video => t("视频模型", "Video model"),
        MediaKind::Speech => t("语音模型", "Speech model"),
        MediaKind::Llm => t("语言模型", "Language model"),
    };
    let options = catalog.with_value(|c| {
        c.iter()
            .filter(|entry| entry.billing.media() == kind)
            .map(|entry| {
                let mut label = format!("{} · {}", entry.model, entry.billing.name());
                if let Some(retired) = &entry.retired {
                    label.push_str(&format!(" · retired {}", retired.on));
                }
                (entry.model.clone(), label, entry.billing.name())
            })
            .collect::<Vec<_>>()
    });
    view! {
        <select id=id.clone() data-testid=id aria-label=label
            on:change=move |ev| set.run(event_target_value(&ev))>
            {options.into_iter().map(|(model, label, shape)| {
                let selected = model == value.get_untracked();
                view! { <option value=model data-shape=shape selected=selected>{label}</option> }
            }).collect_view()}
        </select>
    }
}

/// A labelled whole-number field.
fn number(
    id: String,
    label: impl Fn() -> &'static str + Copy + Send + Sync + 'static,
    value: Signal<String>,
    set: Callback<String>,
) -> impl IntoView {
    view! {
        <div class="ds-field">
            <label for=id.clone()>{label}</label>
            <input id=id.clone() data-testid=id inputmode="numeric" prop:value=value
                on:input=move |ev| set.run(event_target_value(&ev))/>
        </div>
    }
}

/// A labelled select of fixed values.
fn choice(
    id: &'static str,
    label: impl Fn() -> &'static str + Copy + Send + Sync + 'static,
    values: &'static [&'static str],
    value: Signal<String>,
    set: Callback<String>,
) -> impl IntoView {
    view! {
        <div class="ds-field">
            <label for=id>{label}</label>
            <select id=id data-testid=id on:change=move |ev| set.run(event_target_value(&ev))>
                {values.iter().map(|v| {
                    let selected = value.get_untracked() == *v;
                    view! { <option value=*v selected=selected>{*v}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

/// The episode media section.
#[component]
pub fn EpisodeMediaEditor() -> impl IntoView {
    let lang = use_lang();
    let state = use_app_state();
    let catalog = StoredValue::new(shipped());
    let saved =
        prefs::get(STORE_KEY).and_then(|text| serde_json::from_str::<MediaForm>(&text).ok());
    let form =
        RwSignal::new(saved.unwrap_or_else(|| catalog.with_value(|c| MediaForm::starting(c))));
    Effect::new(move |_| {
        if let Ok(text) = serde_json::to_string(&form.get()) {
            prefs::set(STORE_KEY, &text);
        }
    });
    let select =
        move |id: String, kind: MediaKind, value: Signal<String>, set: Callback<String>| {
            model_select(catalog, id, kind, value, set)
        };
    let field = move |get: fn(&MediaForm) -> String| Signal::derive(move || form.with(get));
    let clip_rows = (0..2usize).map(|i| {
        let model = Signal::derive(move || form.with(|f| f.clips[i].model.clone()));
        let set_model = Callback::new(move |value: String| {
            let resolution = catalog.with_value(|c| first_resolution(c, &value));
            form.update(|f| {
                f.clips[i].model = value;
                f.clips[i].resolution = resolution;
            });
        });
        let resolution_list = move || {
            let model = model.get();
            catalog.with_value(|c| {
                c.iter()
                    .find(|entry| entry.model == model)
                    .map(|entry| resolutions(&entry.billing))
                    .unwrap_or_default()
            })
        };
        let text = move |pick: fn(&ClipForm) -> String| {
            Signal::derive(move || form.with(|f| pick(&f.clips[i])))
        };
        let put = move |put: fn(&mut ClipForm, String)| {
            Callback::new(move |value: String| form.update(|f| put(&mut f.clips[i], value)))
        };
        view! {
            <fieldset class="ds-media-row" data-testid=format!("media-clip-{i}")>
                <legend>{move || format!("{} {}", t("视频模型", "Video model")(), i + 1)}</legend>
                {select(format!("media-clip-model-{i}"), MediaKind::Video, model, set_model)}
                {number(format!("media-clip-shots-{i}"), t("镜头数", "Shots"), text(|c| c.shots.clone()), put(|c, v| c.shots = v))}
                {number(format!("media-clip-seconds-{i}"), t("每个镜头秒数", "Seconds per shot"), text(|c| c.seconds.clone()), put(|c, v| c.seconds = v))}
                {number(format!("media-clip-takes-{i}"), t("每个镜头生成次数", "Takes per shot"), text(|c| c.takes.clone()), put(|c, v| c.takes = v))}
                <div class="ds-field">
                    <label for=format!("media-clip-resolution-{i}")>{t("分辨率", "Resolution")}</label>
                    <select id=format!("media-clip-resolution-{i}") data-testid=format!("media-clip-resolution-{i}")
                        on:change=move |ev| form.update(|f| f.clips[i].resolution = event_target_value(&ev))>
                        {move || resolution_list().into_iter().map(|r| {
                            let selected = form.with_untracked(|f| f.clips[i].resolution == r);
                            view! { <option value=r.clone() selected=selected>{r.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
            </fieldset>
        }
    }).collect_view();
    let priced = Memo::new(move |_| {
        form.with(|f| f.episode())
            .map(|episode| catalog.with_value(|c| episode.price(c)))
    });
    let profiles = move || state.book.with(|book| book.profiles.clone());
    // A retired, seed-only or unpriced model chosen: said beside the form, in the user's language.
    let today: String = String::from(js_sys::Date::new_0().to_iso_string())
        .chars()
        .take(10)
        .collect();
    let warnings = move || {
        let lang = lang.get();
        form.with(|f| {
            let chosen = [
                &f.frame_model,
                &f.clips[0].model,
                &f.clips[1].model,
                &f.voice_model,
            ];
            catalog.with_value(|c| {
                chosen
                    .into_iter()
                    .filter_map(|model| find(c, model)?.warning(&today, lang))
                    .collect::<Vec<_>>()
            })
        })
    };
    view! {
        <div class="ds-media" data-testid="episode-media">
            <p class="ds-field__hint">{t(
                "一集的关键帧、两种视频模型的片段和配音，按价格目录中各模型真实的计费方式计价（按秒、按片段、按 token、按字符）。",
                "One episode's keyframes, clips on two video models and dubbing, each priced the way its model bills (per second, per clip, per token, per character) from the catalog.")}</p>
            <fieldset class="ds-media-row">
                <legend>{t("关键帧", "Keyframes")}</legend>
                {select("media-frame-model".into(), MediaKind::Image, field(|f| f.frame_model.clone()),
                    Callback::new(move |v| form.update(|f| f.frame_model = v)))}
                {number("media-frames-per-shot".into(), t("每个镜头帧数", "Frames per shot"), field(|f| f.frames_per_shot.clone()),
                    Callback::new(move |v| form.update(|f| f.frames_per_shot = v)))}
                {number("media-frame-takes".into(), t("每帧生成次数", "Takes per frame"), field(|f| f.frame_takes.clone()),
                    Callback::new(move |v| form.update(|f| f.frame_takes = v)))}
                {choice("media-frame-size", t("尺寸", "Size"), &["1024x1536", "1024x1024", "1536x1024"],
                    field(|f| f.frame_size.clone()), Callback::new(move |v| form.update(|f| f.frame_size = v)))}
                {choice("media-frame-quality", t("质量", "Quality"), &["low", "medium", "high"],
                    field(|f| f.frame_quality.clone()), Callback::new(move |v| form.update(|f| f.frame_quality = v)))}
            </fieldset>
            {clip_rows}
            <fieldset class="ds-media-row">
                <legend>{t("配音", "Dubbing")}</legend>
                {select("media-voice-model".into(), MediaKind::Speech, field(|f| f.voice_model.clone()),
                    Callback::new(move |v| form.update(|f| f.voice_model = v)))}
                {number("media-characters".into(), t("每集台词字数", "Characters of dialogue per episode"), field(|f| f.characters.clone()),
                    Callback::new(move |v| form.update(|f| f.characters = v)))}
            </fieldset>
            <ul class="ds-warning" data-testid="media-warnings">
                {move || warnings().into_iter().map(|w| view! { <li data-testid="media-warning">{w}</li> }).collect_view()}
            </ul>
            {move || match priced.get() {
                Err(field) => view! {
                    <p class="ds-error" role="alert" data-testid="media-error">
                        {format!("{} ({field})", t("请填写非负整数", "Enter a whole number of zero or more")())}
                    </p>
                }.into_any(),
                Ok(Err(problems)) => view! {
                    <ul class="ds-error" role="alert" data-testid="media-error">
                        {problems.iter().map(|p| view! { <li>{p.message(lang.get())}</li> }).collect_view()}
                    </ul>
                }.into_any(),
                Ok(Ok(cost)) => {
                    let minutes = format!("{} s", format_count(cost.finished_seconds));
                    view! {
                        <table class="ds-table" data-testid="media-lines">
                            <thead><tr>
                                <th scope="col">{t("项目", "Line")}</th>
                                <th scope="col">{t("模型", "Model")}</th>
                                <th scope="col">{t("请求数", "Requests")}</th>
                                <th scope="col">{t("每集费用", "Per episode")}</th>
                            </tr></thead>
                            <tbody>
                                {cost.lines.iter().map(|line| {
                                    let made = line.made_seconds.map(|s| format!(" ({} {s} s)", t("按模型时长生成", "made as")()));
                                    view! { <tr data-testid="media-line" data-model=line.model.clone()>
                                        <td>{line.kind}</td>
                                        <td class="ds-mono">{line.model.clone()}{made}</td>
                                        <td>{format_count(line.requests)}</td>
                                        <td>{line.cost.display()}</td>
                                    </tr> }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <p data-testid="media-runtime">{t("成片时长", "Finished runtime")} ": " {minutes}</p>
                        <table class="ds-table" data-testid="media-profiles">
                            <thead><tr>
                                <th scope="col">{t("服务商配置", "Profile")}</th>
                                <th scope="col">{t("每集", "Per episode")}</th>
                                <th scope="col">{t("每成片分钟", "Per finished minute")}</th>
                            </tr></thead>
                            <tbody>
                                {profiles().into_iter().map(|profile| {
                                    let under = cost.under(&profile);
                                    view! { <tr data-testid="media-profile" data-profile=profile.id.clone()
                                        data-per-minute-usd-units=under.per_finished_minute.usd.units().to_string()>
                                        <th scope="row">{profile.name.clone()}</th>
                                        <td>{format!("{} · {}", under.per_episode.usd.display(), under.per_episode.cny.display())}</td>
                                        <td data-testid="media-per-minute">{format!("{} · {}", under.per_finished_minute.usd.display(), under.per_finished_minute.cny.display())}</td>
                                    </tr> }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
        </div>
    }
}
