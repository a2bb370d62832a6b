//! What money a launch and a project take: the estimate next to the item count, a project's
//! budget and spending, and the price table on the Settings page.

use leptos::html;
use leptos::prelude::*;

use crate::api::costs::{
    estimate_launch, price_table, project_budget, ResetPrice, SetPrice, SetProjectBudget,
};
use crate::components::actions::{last_error, on_success};
use crate::components::button;
use crate::components::field::{FieldError, FormMessage, INPUT, LABEL};
use crate::dto::{PriceDto, PriceUnit};

/// "Estimated cost: $0.0120 (4 × $0.0030 per result)", for what the form would queue now.
#[component]
pub fn LaunchEstimate(
    #[prop(into)] provider: Signal<String>,
    #[prop(into)] model: Signal<String>,
    #[prop(into)] params: Signal<String>,
    #[prop(into)] items: Signal<Option<u64>>,
) -> impl IntoView {
    let estimate = Resource::new(
        move || (provider.get(), model.get(), params.get(), items.get()),
        |(provider, model, params, items)| async move {
            match items {
                Some(n) if n > 0 => estimate_launch(provider, model, params, n).await.ok(),
                _ => None,
            }
        },
    );
    view! {
        <p class="text-sm" aria-live="polite" data-cost-estimate>
            <Transition fallback=|| ()>
                {move || estimate.get().map(|answer| match answer {
                    Some(Some(e)) => view! {
                        <span class="font-medium">{format!("Estimated cost: {}", e.total)}</span>
                        <span class="text-stone-600 dark:text-stone-400">{format!(" ({})", e.basis)}</span>
                    }.into_any(),
                    Some(None) => view! {
                        <span class="text-stone-600 dark:text-stone-400">"No price known for this model; set one on the Settings page."</span>
                    }.into_any(),
                    None => ().into_any(),
                })}
            </Transition>
        </p>
    }
}

/// A project's budget (total, and per calendar month) with what it has spent.
#[component]
pub fn ProjectBudget(project_id: i64, name: String) -> impl IntoView {
    let save = ServerAction::<SetProjectBudget>::new();
    let changed = RwSignal::new(0u32);
    on_success(save, move || changed.update(|n| *n += 1));
    let budget = Resource::new(move || changed.get(), move |_| project_budget(project_id));
    let error = last_error(save);
    let field = move |f: &'static str| Signal::derive(move || error().and_then(|e| e.for_field(f)));
    let amount = |usd: Option<f64>| usd.map(|u| format!("{u}")).unwrap_or_default();
    view! {
        <details class="mt-2 text-sm" data-budget=project_id>
            <summary class="cursor-pointer text-stone-700 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-stone-300">
                "Budget and spending"<span class="sr-only">{format!(" of {name}")}</span>
            </summary>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let Ok(b) = budget.await else { return ().into_any() };
                    let (total_id, month_id) =
                        (format!("budget-total-{project_id}"), format!("budget-month-{project_id}"));
                    let limits = match (b.month_usd, b.total_usd) {
                        (None, None) => "No budget.".to_string(),
                        (m, t) => format!(
                            "Budget: {} a month, {} in total.",
                            m.map(dollars).unwrap_or("no limit".into()),
                            t.map(dollars).unwrap_or("no limit".into())
                        ),
                    };
                    view! {
                        <p class="mt-1" data-spending>{format!("Spent {} this month, {} in total. {limits}", b.spent_month, b.spent_total)}</p>
                        <ActionForm action=save>
                            <input type="hidden" name="project_id" value=project_id />
                            <div class="mt-2 flex flex-wrap items-start gap-3">
                                <div>
                                    <label for=month_id.clone() class=LABEL>"Per month ($)"</label>
                                    <input id=month_id.clone() name="month" inputmode="decimal" class=INPUT value=amount(b.month_usd)
                                        aria-describedby=format!("{month_id}-error") />
                                    <FieldError id=format!("{month_id}-error") error=field("month") />
                                </div>
                                <div>
                                    <label for=total_id.clone() class=LABEL>"In total ($)"</label>
                                    <input id=total_id.clone() name="total" inputmode="decimal" class=INPUT value=amount(b.total_usd)
                                        aria-describedby=format!("{total_id}-error") />
                                    <FieldError id=format!("{total_id}-error") error=field("total") />
                                </div>
                                <button type="submit" class=format!("{} mt-6", button::secondary())>"Save budget"</button>
                            </div>
                        </ActionForm>
                    }.into_any()
                })}
            </Suspense>
        </details>
    }
}

/// `$4.80`, or `$0.0050` under ten cents.
fn dollars(usd: f64) -> String {
    if usd > 0.0 && usd < 0.1 {
        format!("${usd:.4}")
    } else {
        format!("${usd:.2}")
    }
}

fn unit_label(unit: PriceUnit) -> &'static str {
    match unit {
        PriceUnit::Image => "per result",
        PriceUnit::Megapixel => "per megapixel",
        PriceUnit::GpuSecond => "per GPU second",
        PriceUnit::OutputSecond => "per second of output",
    }
}

/// The price table, each price editable (kept on this machine) or reset to the shipped one.
#[component]
pub fn PriceTable() -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let prices = Resource::new(move || changed.get(), |_| price_table());
    view! {
        <section aria-labelledby="prices-heading" class="mt-8">
            <h2 id="prices-heading" class="text-lg font-semibold">"Prices"</h2>
            <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400">
                "What one image costs, as each provider bills it. The Generate page estimates a launch from these, and project budgets are held with them. “*” is every other model of the provider."
            </p>
            <Transition fallback=|| ()>
                {move || prices.get().map(|r| match r {
                    Ok(list) => view! {
                        <table class="mt-3 w-full text-left text-sm">
                            <thead><tr><th class="py-1">"Provider"</th><th>"Model"</th><th>"Price (USD)"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>{list.into_iter().map(|p| view! { <PriceRow price=p changed /> }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <FormMessage message=Signal::stored(Some(e.to_string())) /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PriceRow(price: PriceDto, changed: RwSignal<u32>) -> impl IntoView {
    let save = ServerAction::<SetPrice>::new();
    let reset = ServerAction::<ResetPrice>::new();
    on_success(save, move || changed.update(|n| *n += 1));
    on_success(reset, move || changed.update(|n| *n += 1));
    let input = NodeRef::<html::Input>::new();
    let error = move || last_error(save)().map(|e| e.to_string());
    let id = format!(
        "price-{}-{}",
        price.provider,
        price.model.replace(['/', ':', '*', '.', '@'], "-")
    );
    let label = format!(
        "Price of {} {}, {}",
        price.provider,
        price.model,
        unit_label(price.unit)
    );
    let (provider, model, unit) = (price.provider.clone(), price.model.clone(), price.unit);
    let (p2, m2) = (provider.clone(), model.clone());
    view! {
        <tr class="border-t border-stone-200 dark:border-stone-800" data-price=format!("{}/{}", price.provider, price.model)>
            <td class="py-1">{price.provider.clone()}</td>
            <td class="break-all">{price.model.clone()}</td>
            <td>
                <label for=id.clone() class="sr-only">{label}</label>
                <input id=id.clone() node_ref=input inputmode="decimal" class="w-28 rounded border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900"
                    value=format!("{}", price.usd) aria-describedby=format!("{id}-error") />
                <span class="ml-1 text-xs text-stone-600 dark:text-stone-400">{unit_label(price.unit)}</span>
                {price.edited.then_some(view! { <span class="ml-1 text-xs text-amber-700 dark:text-amber-400">"(edited)"</span> })}
                <p id=format!("{id}-error") class="text-xs text-red-700 dark:text-red-400">{error}</p>
            </td>
            <td class="space-x-1 whitespace-nowrap">
                <button type="button" class=button::secondary() on:click=move |_| {
                    let usd = input.get_untracked().map(|i| i.value()).unwrap_or_default();
                    save.dispatch(SetPrice { provider: provider.clone(), model: model.clone(), unit, usd });
                }>"Save"<span class="sr-only">{format!(" price of {}", price.model)}</span></button>
                {price.edited.then(|| view! {
                    <button type="button" class=button::secondary() on:click=move |_| {
                        reset.dispatch(ResetPrice { provider: p2.clone(), model: m2.clone() });
                    }>"Reset"<span class="sr-only">{format!(" price of {}", price.model)}</span></button>
                })}
            </td>
        </tr>
    }
}
