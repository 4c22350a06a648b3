/** Name pools for the generated county (a fictional county in a northern plain province). */
export const COUNTY = { code: 'QH', name: '清河县供电公司', nameEn: 'Qinghe County Power Supply Company', place: '清河县' };

export const STATIONS = [
  { name: '城关供电所', nameEn: 'Chengguan Station', town: '城关镇', urban: true, weight: 3 },
  { name: '东关供电所', nameEn: 'Dongguan Station', town: '东关镇', urban: true, weight: 2 },
  { name: '王庄供电所', nameEn: 'Wangzhuang Station', town: '王庄镇', urban: false, weight: 1.2 },
  { name: '李集供电所', nameEn: 'Liji Station', town: '李集镇', urban: false, weight: 1.1 },
  { name: '河口供电所', nameEn: 'Hekou Station', town: '河口乡', urban: false, weight: 1 },
  { name: '北山供电所', nameEn: 'Beishan Station', town: '北山乡', urban: false, weight: 0.8 },
  { name: '新桥供电所', nameEn: 'Xinqiao Station', town: '新桥镇', urban: false, weight: 1 },
  { name: '柳林供电所', nameEn: 'Liulin Station', town: '柳林乡', urban: false, weight: 0.9 },
  { name: '马营供电所', nameEn: 'Maying Station', town: '马营乡', urban: false, weight: 0.8 },
  { name: '石桥供电所', nameEn: 'Shiqiao Station', town: '石桥镇', urban: false, weight: 1 },
] as const;

export const SURNAMES = [
  '王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林', '何', '郭', '马', '罗',
  '梁', '宋', '郑', '谢', '韩', '唐', '冯', '于', '董', '萧', '程', '曹', '袁', '邓', '许', '傅', '沈', '曾', '彭', '吕',
] as const;

export const GIVEN_CHARS = [
  '伟', '芳', '娜', '秀', '英', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '兰',
  '霞', '平', '刚', '桂', '华', '建', '国', '文', '玉', '红', '志', '海', '春', '德', '庆', '福', '荣', '宝', '长', '成',
] as const;

export const VILLAGE_SUFFIXES = ['庄', '村', '营', '屯', '集', '寨', '洼', '店', '楼', '岗', '铺', '桥'] as const;

export const SHOP_KINDS = ['超市', '饭店', '理发店', '五金店', '农资店', '药店', '小卖部', '面馆', '修车铺', '粮油店'] as const;
export const FACTORY_WORDS = ['宏达', '兴旺', '永盛', '华通', '鑫源', '金利', '恒泰', '丰源', '瑞祥', '长城'] as const;
export const FACTORY_KINDS = ['机械厂', '面粉厂', '砖厂', '木器加工厂', '纸箱厂', '塑料制品厂', '食品厂', '服装厂'] as const;
export const INDUSTRY_KINDS = ['钢铁有限公司', '化工有限公司', '水泥有限公司', '铸造有限公司', '造纸有限公司', '纺织有限公司'] as const;
export const PROTECTED_KINDS = [
  { name: '人民医院', reason: 'hospital' },
  { name: '卫生院', reason: 'hospital' },
  { name: '中学', reason: 'school' },
  { name: '自来水厂', reason: 'water_supply' },
  { name: '人民政府', reason: 'government' },
  { name: '供热站', reason: 'heating' },
] as const;

export const BANKS = [
  { code: 'ICBC', name: '工商银行', prefix: '622202' },
  { code: 'ABC', name: '农业银行', prefix: '622848' },
  { code: 'CCB', name: '建设银行', prefix: '621700' },
  { code: 'BOC', name: '中国银行', prefix: '621661' },
  { code: 'RCC', name: '农商银行', prefix: '623059' },
] as const;
