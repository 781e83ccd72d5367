import {Environment, evaluate} from '@marcbachmann/cel-js'
const T='google.protobuf.Timestamp', D='google.protobuf.Duration'
const env = new Environment().registerVariable('a',T).registerVariable('now',T).registerVariable('w',D)
for (const e of ['now - a', 'now + w', 'now - a <= w', 'now - duration("7d")', 'now - a <= duration("168h")', 'a.getHours("Asia/Shanghai")']) { const r = env.check(e); console.log(e,'|',r.valid,r.type,r.error?.message?.split('\n')[0]) }
console.log(evaluate('timestamp("2026-01-02T00:00:00Z") - timestamp("2026-01-01T00:00:00Z")'))
try { new Environment().registerVariable({name:'data', schema:{signed_at:T, w:D, m:{amount:'int'}}}); console.log('schema ok') } catch(e) { console.log('schema FAIL', e.message) }
const mk = (name) => ({[name]: class { constructor(o){ Object.assign(this,o) } }})[name]
const Data=mk('Data'); const env2=new Environment().registerType('Data',{ctor:Data,fields:{s:T,w:D}}).registerVariable('data','Data').registerVariable('now',T)
console.log(env2.check('now - data.s <= data.w'), env2.evaluate('now - data.s <= data.w', {now:new Date(), data:new Data({s:new Date(Date.now()-1000), w: evaluate('duration("2s")')})}))
